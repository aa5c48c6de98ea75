/**
 * Shared set-up for the hostile / fault / fuzz suites: an in-process relay + daemon on 127.0.0.1 with a temp
 * home, honest clients, a raw Noise client that lets a test craft any wire bytes, and bounded waits.
 * Everything created is registered with `track()` and torn down by `teardown()` (call it in afterEach/afterAll).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { killAgentProcesses } from "../setup/agent-procs.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session as InspectorSession } from "node:inspector";
import { WebSocket, type ClientOptions } from "ws";
import { buildRelayUrl, type RelayEndpoint } from "../../src/protocol/relay-url.js";
import { DaemonClient, type DaemonClientOptions } from "../../src/client/daemon-client.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon/daemon.js";
import type { Logger } from "../../src/daemon/logger.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { fromBase64Url } from "../../src/protocol/encoding.js";
import { MessageType, type AppMessage } from "../../src/protocol/frame.js";
import { ClientHandshake } from "../../src/protocol/handshake.js";
import { DeviceClientHandshake } from "../../src/protocol/handshake-device.js";
import type { KeyPair } from "../../src/protocol/crypto/backend.js";
import type { Offer } from "../../src/protocol/offer.js";
import { decodeControl, encodeControl, type ControlMessage } from "../../src/protocol/rpc.js";
import type { SecureChannel, SecureChannelOptions } from "../../src/protocol/secure-channel.js";
import type { WebSocketConstructor } from "../../src/client/transport.js";
import { startRelay, type Relay, type RelayOptions } from "../../src/relay/index.js";

export const backend = nativeBackend;

const cleanups: (() => unknown)[] = [];

/** Register a cleanup; run in reverse order by teardown(). */
export function track<T>(value: T, cleanup: (v: T) => unknown): T {
  cleanups.push(() => cleanup(value));
  return value;
}

export async function teardown(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await withTimeout(Promise.resolve(fn()), 5000, "cleanup");
    } catch {
      // best effort: one failed cleanup must not leak the others
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

/** Poll until `predicate` holds; fail after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 5000, stepMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export function tempHome(prefix = "paseo-hostile-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return track(dir, (d) => {
    killAgentProcesses(d); // agents outlive the daemon: end them and their hosts too
    rmSync(d, { recursive: true, force: true });
  });
}

export async function relay(options: RelayOptions = {}): Promise<Relay> {
  const r = await startRelay({ host: "127.0.0.1", port: 0, backend, ...options });
  return track(r, (x) => x.close());
}

export interface LogLine {
  level: string;
  msg: string;
}

/** A logger that keeps lines (for asserting *why* the daemon refused something). */
export function memoryLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, log: (level, msg) => void lines.push({ level, msg }) };
}

export interface Env {
  relay: Relay;
  daemon: Daemon;
  offer: Offer;
  logs: LogLine[];
}

/**
 * A relay and a daemon registered with it (through `daemonRelay` if given, e.g. a MITM proxy's endpoint).
 * Resolves once the daemon's relay link reports "connected".
 */
export async function startEnv(
  options: {
    relay?: RelayOptions;
    daemon?: Partial<DaemonOptions>;
    daemonRelay?: (relay: Relay) => RelayEndpoint | Promise<RelayEndpoint>;
    waitConnected?: boolean;
  } = {},
): Promise<Env> {
  const r = await relay(options.relay);
  const { log, lines } = memoryLogger();
  const daemon = await startDaemon({
    home: tempHome(),
    relay: options.daemonRelay ? await options.daemonRelay(r) : r.endpoint,
    log,
    backend,
    pairOnStart: true,
    ...options.daemon,
  });
  track(daemon, (d) => d.close());
  if (options.waitConnected !== false)
    await waitUntil(() => daemon.relayStatus?.state === "connected", "daemon registered with the relay");
  // The pairing offer names the real relay; clients that go through a proxy pass `url`.
  const offer = { ...daemon.pairing!.offer, relay: r.endpoint };
  return { relay: r, daemon, offer, logs: lines };
}

export function client(offer: Offer, options: Partial<DaemonClientOptions> = {}): DaemonClient {
  const c = new DaemonClient({ offer, backend, connectTimeoutMs: 5000, requestTimeoutMs: 5000, ...options });
  return track(c, (x) => x.close());
}

export function relayUrl(endpoint: RelayEndpoint, serverId: string, role: "client" | "server" = "client"): string {
  return buildRelayUrl(endpoint, role, serverId);
}

/**
 * A WebSocket (for DaemonClient's `WebSocket` option) whose connection leaves from `localAddress`: Linux routes all
 * of 127.0.0.0/8 to loopback, so 127.0.0.2 is a genuinely different source address for the relay's per-IP limits.
 */
export function boundWebSocket(localAddress: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, options?: ClientOptions) {
      super(url, { ...options, localAddress });
    }
  } as unknown as WebSocketConstructor;
}

/** A second, honest client: one fresh connection, one `ls`. Resolves with the agents or rejects. */
export async function honestLs(env: Env, options: { all?: boolean } = {}): Promise<number> {
  const c = client(env.offer);
  try {
    return (await c.listAgents({ all: options.all })).length;
  } finally {
    c.close();
  }
}

/** What a promise settled with, for asserting on named errors without try/catch noise. */
export async function outcome<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: Error & { code?: string } }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error: error as Error & { code?: string } };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Raw Noise client: the paseo handshake and channel driven by hand over a plain `ws` socket.

export interface RawSocket {
  ws: WebSocket;
  /** Every binary message received, in order. */
  received: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  closeInfo: { code: number; reason: string } | undefined;
  /** Wait for the n-th received message (0-based). */
  nth(n: number, timeoutMs?: number): Promise<Buffer>;
  send(bytes: Uint8Array | string): void;
}

export async function rawSocket(url: string, options: { waitOpen?: boolean } = {}): Promise<RawSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  track(ws, (w) => w.terminate());
  const received: Buffer[] = [];
  const waiters: (() => void)[] = [];
  ws.on("error", () => {});
  ws.on("message", (data: Buffer, isBinary) => {
    if (isBinary) received.push(data);
    for (const w of waiters.splice(0)) w();
  });
  const sock: RawSocket = {
    ws,
    received,
    closeInfo: undefined,
    closed: new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        sock.closeInfo = { code, reason: reason.toString() };
        for (const w of waiters.splice(0)) w();
        resolve(sock.closeInfo);
      }),
    ),
    async nth(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length <= n) {
        if (sock.closeInfo)
          throw new Error(`socket closed (${sock.closeInfo.code} ${sock.closeInfo.reason}) before message ${n}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for message ${n}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return received[n]!;
    },
    send(bytes) {
      ws.send(bytes);
    },
  };
  if (options.waitOpen !== false) {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("close", (code) => reject(new Error(`socket closed (${code}) before open`)));
    });
  }
  return sock;
}

export function closeCode(sock: RawSocket, timeoutMs = 5000): Promise<number> {
  return withTimeout(sock.closed, timeoutMs, "socket close").then((c) => c.code);
}

export function offerKeys(offer: Offer) {
  return {
    daemonPublicKey: fromBase64Url(offer.daemonPublicKeyB64)!,
    offerId: fromBase64Url(offer.offerId)!,
    psk: fromBase64Url(offer.secretB64)!,
  };
}

export function newHandshake(offer: Offer, channel?: SecureChannelOptions): ClientHandshake {
  return new ClientHandshake({ backend, serverId: offer.serverId, ...offerKeys(offer), channel });
}

export function control(message: ControlMessage): AppMessage {
  return { type: MessageType.CONTROL, body: encodeControl(message) };
}

export function request(id: number, method: string, params: Record<string, unknown> = {}): AppMessage {
  return control({ t: "req", id, method, params });
}

/** A raw, fully handshaken Noise client on its own socket (optionally with an early request in the hello). */
export interface RawSession {
  sock: RawSocket;
  channel: SecureChannel;
  hello: Uint8Array;
  /** Index in sock.received of the next unread message. */
  cursor: number;
  /** Decrypt received messages until a control message with `t: "res"` and this id arrives. */
  response(id: number, timeoutMs?: number): Promise<ControlMessage & { t: "res" }>;
  sendMessage(message: AppMessage): Uint8Array[];
}

export async function rawSession(
  url: string,
  offer: Offer,
  options: { early?: AppMessage; channel?: SecureChannelOptions } = {},
): Promise<RawSession> {
  const sock = await rawSocket(url);
  const hs = newHandshake(offer, options.channel);
  const hello = hs.hello(options.early);
  sock.send(hello);
  const reply = await sock.nth(0);
  const { channel } = hs.readReply(new Uint8Array(reply));
  return sessionOver(sock, channel, hello);
}

/** A RawSession on a socket whose handshake is done (message 2 was received as message 0). */
function sessionOver(sock: RawSocket, channel: SecureChannel, hello: Uint8Array): RawSession {
  const session: RawSession = {
    sock,
    channel,
    hello,
    cursor: 1,
    async response(id, timeoutMs = 5000) {
      for (;;) {
        const bytes = await sock.nth(session.cursor++, timeoutMs);
        const message = channel.decrypt(new Uint8Array(bytes));
        if (!message || message.type !== MessageType.CONTROL) continue;
        const control = decodeControl(message.body);
        if (control.t === "res" && control.id === id) return control;
      }
    },
    sendMessage(message) {
      const frames = channel.encrypt(message);
      for (const f of frames) sock.send(f);
      return frames;
    },
  };
  return session;
}

// ---------------------------------------------------------------------------------------------------------------
// Live-object counting through the inspector (Runtime.queryObjects runs a full GC first), for leak checks.

let inspector: InspectorSession | undefined;

function post<T>(method: string, params: Record<string, unknown>): Promise<T> {
  inspector ??= (() => {
    const s = new InspectorSession();
    s.connect();
    return s;
  })();
  return new Promise((resolve, reject) =>
    inspector!.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

/** Number of live instances whose prototype is `proto` (after a full GC). */
export async function liveInstances(proto: object): Promise<number> {
  const key = `__paseo_proto_${Math.random().toString(36).slice(2)}`;
  (globalThis as Record<string, unknown>)[key] = proto;
  try {
    const { result: protoRef } = await post<{ result: { objectId: string } }>("Runtime.evaluate", {
      expression: `globalThis.${key}`,
    });
    const { objects } = await post<{ objects: { objectId: string } }>("Runtime.queryObjects", {
      prototypeObjectId: protoRef.objectId,
    });
    const { result } = await post<{ result: { value: number } }>("Runtime.callFunctionOn", {
      objectId: objects.objectId,
      functionDeclaration: "function () { return this.length; }",
      returnByValue: true,
    });
    await post("Runtime.releaseObject", { objectId: objects.objectId });
    await post("Runtime.releaseObject", { objectId: protoRef.objectId });
    return result.value;
  } finally {
    delete (globalThis as Record<string, unknown>)[key];
  }
}

/** Heap used after a full GC (via the inspector), in bytes. */
export async function heapAfterGc(): Promise<number> {
  await post("HeapProfiler.enable", {});
  await post("HeapProfiler.collectGarbage", {});
  await post("HeapProfiler.collectGarbage", {});
  await post("HeapProfiler.disable", {});
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw device client (issue 16): hello 0x02 (enrolled device, IK) or 0x03 (enrollment with a ticket, IKpsk1).

export interface RawDeviceSession extends RawSession {
  welcome: ControlMessage | undefined;
  handshakeHash: Uint8Array;
}

/**
 * Open a device session by hand. With `ticket` the hello is 0x03 (enroll), else 0x02. Rejects with the socket's
 * close code (as `closed <code>`) when the daemon refuses the hello.
 */
export async function rawDeviceSession(
  url: string,
  offer: Pick<Offer, "serverId" | "daemonPublicKeyB64">,
  deviceKey: KeyPair,
  options: { ticket?: Offer; early?: AppMessage; hello?: Uint8Array } = {},
): Promise<RawDeviceSession> {
  const sock = await rawSocket(url);
  const hs = new DeviceClientHandshake({
    backend,
    serverId: offer.serverId,
    daemonPublicKey: fromBase64Url(offer.daemonPublicKeyB64)!,
    deviceKey,
    ...(options.ticket
      ? { enroll: { offerId: fromBase64Url(options.ticket.offerId)!, psk: fromBase64Url(options.ticket.secretB64)! } }
      : {}),
  });
  const hello = options.hello ?? hs.hello(options.early);
  sock.send(hello);
  let reply: Buffer;
  try {
    reply = await sock.nth(0);
  } catch {
    throw new Error(`closed ${await closeCode(sock)}`);
  }
  const { channel, welcome, handshakeHash } = hs.readReply(new Uint8Array(reply));
  return Object.assign(sessionOver(sock, channel, hello), {
    welcome: welcome ? decodeControl(welcome.body) : undefined,
    handshakeHash,
  });
}
