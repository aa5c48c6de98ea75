/**
 * Test peers for the relay: a daemon that registers with a real X25519 key and speaks the mux codec, and a plain
 * client. Both use real `ws` sockets against a relay started in-process. Everything they open is tracked so
 * `cleanup()` (in afterEach) closes it even when a test fails half way.
 */
import { createHash } from "node:crypto";
import { WebSocket } from "ws";
import { buildRelayUrl } from "../../src/protocol/relay-url.js";
import type { KeyPair } from "../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { answerChallenge } from "../../src/protocol/relay-auth.js";
import { type MuxMessage, decodeMux, encodeClose, encodeData } from "../../src/protocol/relay-mux.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import { vi } from "vitest";
import type { RelayOptions, RelayStats } from "../../src/relay/index.js";
import { type RelayUnderTest, startRelayUnderTest } from "./relays.js";

export { CAPS, type RelayCaps, type RelayKind, currentRelayKind, describeRelays } from "./relays.js";
type Relay = RelayUnderTest;

export const backend = nativeBackend;

const opened: Array<{ close(): void }> = [];
const relays: Relay[] = [];

export async function cleanup(): Promise<void> {
  for (const s of opened.splice(0)) s.close();
  await Promise.all(relays.splice(0).map((r) => r.close()));
}

/** A relay of the current kind (relays.ts: Node, or the Worker under workerd). */
export async function relayFor(options: RelayOptions = {}): Promise<Relay> {
  const relay = await startRelayUnderTest(options);
  relays.push(relay);
  return relay;
}

export function wsUrl(relay: Relay, role: "server" | "client", serverId: string): string {
  return buildRelayUrl(relay.endpoint, role, serverId);
}

export interface Closed {
  code: number;
  reason: string;
  at: number;
}

/** Poll until `predicate` holds or fail after `timeoutMs` with `what` in the message. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The close code of a raw socket (close frame or end, whichever comes first: see track). */
export async function closeCodeOf(ws: WebSocket): Promise<number> {
  return (await track(ws)).code;
}

/** Retry `check` on the relay's counters until it passes (the Worker relay reports them batched, ~100 ms late). */
export async function expectStats(relay: Relay, check: (stats: RelayStats) => void, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(async () => check(await relay.stats()), { timeout: timeoutMs, interval: 50 });
}

/**
 * Resolves with the close code and reason as soon as the relay's close frame arrives (or the socket ends), not when
 * TCP is torn down: local workerd holds a finished connection open ~10 s when its client never sent a message
 * (observed with workerd 1.20260426), which says nothing about the relay's behaviour. ws reports the frame with its
 * receiver's 'conclude' event, the one that makes it answer the close.
 */
export function track(ws: WebSocket): Promise<Closed> {
  opened.push({ close: () => ws.terminate() });
  ws.on("error", () => {});
  return new Promise((resolve) => {
    const done = (code: number, reason: Buffer) => resolve({ code, reason: reason.toString(), at: Date.now() });
    ws.on("close", done);
    ws.on("open", () => {
      const receiver = (ws as unknown as { _receiver?: { on(e: "conclude", f: typeof done): void } })._receiver;
      receiver?.on("conclude", done);
    });
  });
}

export function newKey(): KeyPair {
  return backend.generateKeyPair();
}

export interface ClientRecord {
  opened: boolean;
  data: Buffer[];
  bytes: number;
  closed?: { code: number; reason: string };
  paused: boolean;
  pauses: number;
  resumes: number;
}

/** A daemon: registers (challenge–response), records every mux message, can echo DATA back to its sender. */
export class TestDaemon {
  readonly clients = new Map<number, ClientRecord>();
  readonly messages: MuxMessage[] = [];
  ready = false;
  echo = false;
  private constructor(
    readonly ws: WebSocket,
    readonly serverId: string,
    readonly closed: Promise<Closed>,
  ) {}

  /**
   * Connect as role=server. `answer` builds the AUTH from the CHALLENGE (default: the honest answer with `key`);
   * resolves once READY arrives, or when the socket closes (check `ready`).
   */
  static async connect(
    relay: Relay,
    opts: {
      key?: KeyPair;
      serverId?: string;
      answer?: (challenge: Buffer) => Uint8Array;
      waitReady?: boolean;
      mux?: number;
    } = {},
  ): Promise<TestDaemon> {
    const key = opts.key ?? newKey();
    const serverId = opts.serverId ?? deriveServerId(backend, key.publicKey);
    const ws = new WebSocket(wsUrl(relay, "server", serverId) + (opts.mux !== undefined ? `&mux=${opts.mux}` : ""));
    const daemon = new TestDaemon(ws, serverId, track(ws));
    const answer = opts.answer ?? ((c: Buffer) => answerChallenge(backend, key, serverId, c));
    let challenged = false;
    const ready = new Promise<void>((resolve) => {
      ws.on("message", (raw: Buffer) => {
        if (!challenged) {
          challenged = true;
          ws.send(answer(raw));
          return;
        }
        const msg = decodeMux(raw);
        if (msg.type === "ready") {
          daemon.ready = true;
          resolve();
          return;
        }
        daemon.onMux(msg);
      });
      void daemon.closed.then(() => resolve());
    });
    if (opts.waitReady !== false) await ready;
    return daemon;
  }

  private onMux(msg: MuxMessage): void {
    // Keep DATA out of the log (large transfers); everything else is kept for assertions.
    if (msg.type !== "data") this.messages.push(msg);
    const rec = (id: number) => {
      let r = this.clients.get(id);
      if (!r) {
        r = { opened: false, data: [], bytes: 0, paused: false, pauses: 0, resumes: 0 };
        this.clients.set(id, r);
      }
      return r;
    };
    switch (msg.type) {
      case "open":
        rec(msg.clientId).opened = true;
        break;
      case "data": {
        const r = rec(msg.clientId);
        r.bytes += msg.payload.length;
        r.data.push(Buffer.from(msg.payload));
        if (this.echo) this.send(msg.clientId, msg.payload);
        break;
      }
      case "close":
        rec(msg.clientId).closed = { code: msg.code, reason: msg.reason };
        break;
      case "pause":
        rec(msg.clientId).paused = true;
        rec(msg.clientId).pauses++;
        break;
      case "resume":
        rec(msg.clientId).paused = false;
        rec(msg.clientId).resumes++;
        break;
      default:
        throw new Error(`unexpected ${msg.type} from relay`);
    }
  }

  /** Ids in OPEN order. */
  get clientIds(): number[] {
    return [...this.clients.keys()];
  }

  send(clientId: number, payload: Uint8Array): void {
    this.ws.send(encodeData(clientId, payload));
  }

  closeClient(clientId: number, code: number, reason = ""): void {
    this.ws.send(encodeClose(clientId, code, reason));
  }

  /**
   * Send `data` to a client in chunks, honouring PAUSE/RESUME and this socket's own buffer, as a real daemon does.
   * `ignorePause` makes it a misbehaving daemon.
   */
  async stream(clientId: number, data: Buffer, opts: { chunk?: number; ignorePause?: boolean } = {}): Promise<void> {
    const chunk = opts.chunk ?? 60 * 1024;
    for (let off = 0; off < data.length; off += chunk) {
      while ((!opts.ignorePause && this.clients.get(clientId)?.paused) || this.ws.bufferedAmount > 1024 * 1024) {
        if (this.ws.readyState !== WebSocket.OPEN) return;
        await sleep(2);
      }
      if (this.ws.readyState !== WebSocket.OPEN || this.clients.get(clientId)?.closed) return;
      this.send(clientId, data.subarray(off, off + chunk));
    }
  }

  received(clientId: number): Buffer {
    return Buffer.concat(this.clients.get(clientId)?.data ?? []);
  }

  close(): void {
    this.ws.close(1000);
  }
}

/** A client: records received messages and the close. */
export class TestClient {
  readonly data: Buffer[] = [];
  bytes = 0;
  private readonly hash = createHash("sha256");
  constructor(
    readonly ws: WebSocket,
    readonly closed: Promise<Closed>,
    readonly startedAt: number,
  ) {
    ws.on("message", (raw: Buffer) => {
      this.bytes += raw.length;
      this.hash.update(raw);
      if (this.keep) this.data.push(raw);
    });
  }

  /** Set false for bulk transfers (only the count and hash are kept). */
  keep = true;

  static async connect(
    relay: Relay,
    serverId: string,
    opts: { waitOpen?: boolean; localAddress?: string } = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(wsUrl(relay, "client", serverId), { localAddress: opts.localAddress });
    const client = new TestClient(ws, track(ws), Date.now());
    if (opts.waitOpen !== false) {
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
        ws.once("close", () => resolve());
      });
    }
    return client;
  }

  send(payload: Uint8Array | string): void {
    this.ws.send(payload);
  }

  received(): Buffer {
    return Buffer.concat(this.data);
  }

  digest(): string {
    return this.hash.copy().digest("hex");
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close(1000);
  }
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
