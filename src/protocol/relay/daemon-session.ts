/**
 * The relay side of one daemon socket: proof-of-possession registration (§5.2), then the multiplexed leg (§5.3)
 * carrying every client of that daemon. The relay only reads mux headers; DATA payloads are forwarded verbatim.
 *
 * Flow control toward the daemon: when this socket's outbound buffer passes the high-water mark, the relay stops
 * reading from all of this daemon's clients (TCP pushes back on them) until it drains — bounded memory, no drops.
 */
import { CloseCode, closeReason } from "../close-codes.js";
import { type ChallengeState, createChallenge, verifyAuth } from "../relay-auth.js";
import { toHex, truncateUtf8 } from "../encoding.js";
import {
  MAX_CLIENT_ID,
  MAX_CLOSE_REASON_BYTES,
  MuxDecodeError,
  decodeMux,
  encodeClose,
  encodeData,
  encodeOpen,
  encodePause,
  encodeReady,
  encodeResume,
} from "../relay-mux.js";
import type { ClientSession } from "./client-session.js";
import type { RelayContext, Session } from "./context.js";
import { shortId } from "../server-id.js";
import { type FlowSignal, watchFlow } from "./flow.js";
import type { Peer } from "./peer.js";

/** Hold reason for clients while their daemon's socket is congested. */
const DAEMON_CONGESTED = "daemon-congested";
/** Hold reason: the daemon asked to stop reading this client (its per-client backlog is full). */
const DAEMON_BACKLOG = "daemon-backlog";

/** Codes a daemon may ask the relay to close a client with: normal closure and the daemon range (§4). */
function daemonMayUse(code: number): boolean {
  return code === 1000 || (code >= 4100 && code <= 4199);
}

/** One daemon socket at the relay, from its CHALLENGE to its close (see the file header). */
export class DaemonSession implements Session {
  private state: "auth" | "ready" | "closed" = "auth";
  private readonly clients = new Map<number, ClientSession>();
  private nextClientId = 1;
  private challenge: ChallengeState | undefined;
  private authTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly flow: ReturnType<typeof watchFlow>;
  private readonly tag: string;

  constructor(
    readonly serverId: string,
    readonly peer: Peer,
    private readonly ctx: RelayContext,
    /** The daemon asked for tagged OPENs (`mux=2`, §5.3). */
    private readonly taggedOpen = false,
    /** The limiter key of the daemon's address (kept for a rebuild after hibernation). */
    private readonly source = "",
  ) {
    this.flow = watchFlow(peer, ctx.opts, (signal) => this.applyFlow(signal));
    this.tag = `daemon ${shortId(serverId)}`;
    peer.onMessage = (data, isBinary) => this.onMessage(data, isBinary);
  }

  /** Rebuild a registered daemon after hibernation (src/relay-worker): it already proved its key and got READY. */
  restore(nextClientId: number): void {
    this.nextClientId = nextClientId;
    this.state = "ready";
    this.ctx.router.register(this);
  }

  /** A client rebuilt after hibernation takes back its clientId (no OPEN: the daemon knows it). */
  reattach(client: ClientSession, clientId: number): void {
    this.clients.set(clientId, client);
    if (clientId >= this.nextClientId) this.nextClientId = clientId >= MAX_CLIENT_ID ? 1 : clientId + 1;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** Send the CHALLENGE; the daemon has authTimeoutMs to answer. */
  start(): void {
    this.challenge = createChallenge(this.ctx.opts.backend);
    this.peer.send(this.challenge.message);
    this.authTimer = setTimeout(() => {
      this.ctx.log("info", `${this.tag}: no AUTH within ${this.ctx.opts.authTimeoutMs} ms`);
      this.closeFromRelay(CloseCode.TIMEOUT, "authentication timed out");
    }, this.ctx.opts.authTimeoutMs);
  }

  onMessage(data: Uint8Array, isBinary: boolean): void {
    this.peer.received(data.length);
    if (this.state === "closed") return;
    if (!isBinary) return this.closeFromRelay(CloseCode.BAD_REQUEST, "text frames are not allowed");
    if (this.state === "auth") return this.onAuth(data);
    let msg: ReturnType<typeof decodeMux>;
    try {
      msg = decodeMux(data);
    } catch (err) {
      if (!(err instanceof MuxDecodeError)) throw err;
      this.ctx.log("warn", `${this.tag}: malformed mux message (${err.message})`);
      return this.closeFromRelay(CloseCode.BAD_REQUEST, "malformed mux message");
    }
    if (msg.type === "data") {
      // An unknown id is a client that just left: its CLOSE is on the way to the daemon. Not an error.
      this.clients.get(msg.clientId)?.deliver(msg.payload);
    } else if (msg.type === "close") {
      if (!daemonMayUse(msg.code)) {
        this.ctx.log("warn", `${this.tag}: CLOSE with reserved code ${msg.code}`);
        return this.closeFromRelay(CloseCode.BAD_REQUEST, "daemon used a reserved close code");
      }
      const client = this.clients.get(msg.clientId);
      if (!client) return;
      this.clients.delete(msg.clientId);
      client.closeByDaemon(msg.code, msg.reason);
    } else if (msg.type === "pause" || msg.type === "resume") {
      // The daemon's backlog for this client is full (or drained): stop (or restart) reading the client's socket,
      // so a flooding client is slowed by TCP backpressure without touching the others (docs/protocol.md §5.3).
      const client = this.clients.get(msg.clientId);
      if (msg.type === "pause") client?.peer.hold(DAEMON_BACKLOG);
      else client?.peer.release(DAEMON_BACKLOG);
    } else {
      this.ctx.log("warn", `${this.tag}: unexpected ${msg.type.toUpperCase()} from daemon`);
      this.closeFromRelay(CloseCode.BAD_REQUEST, "unexpected mux message type");
    }
  }

  private onAuth(data: Uint8Array): void {
    clearTimeout(this.authTimer);
    const challenge = this.challenge!;
    this.challenge = undefined;
    if (!verifyAuth(this.ctx.opts.backend, challenge, this.serverId, data)) {
      this.ctx.metrics.authFailures++;
      this.ctx.log("warn", `${this.tag}: proof of possession failed`);
      return this.closeFromRelay(CloseCode.AUTH_FAILED);
    }
    if (!this.peer.isOpen) return;
    this.state = "ready";
    // READY before registering: registering attaches waiting clients, and their OPENs must follow READY.
    this.peer.send(encodeReady());
    this.remember();
    this.ctx.log("info", `${this.tag}: registered`);
    this.ctx.router.register(this);
  }

  /**
   * Keep this daemon's routing record with its socket (hibernating runtimes). nextClientId is part of it: a daemon
   * may still send DATA for a client that just left, so an id must not be handed out again after a wake-up.
   */
  private remember(): void {
    this.peer.socket.remember?.({
      role: "server",
      serverId: this.serverId,
      source: this.source,
      taggedOpen: this.taggedOpen,
      tagKey: toHex(this.ctx.pending.tagKey),
      nextClientId: this.nextClientId,
    });
  }

  /** Take a client onto this socket: returns its clientId, or undefined when this daemon cannot take more. */
  attach(client: ClientSession): number | undefined {
    if (this.state !== "ready" || this.clients.size >= this.ctx.opts.maxClientsPerDaemon) return undefined;
    const id = this.allocateId();
    this.clients.set(id, client);
    this.remember();
    this.peer.send(encodeOpen(id, this.taggedOpen ? client.sourceTag : undefined));
    if (this.flow.isPaused) client.peer.hold(DAEMON_CONGESTED);
    return id;
  }

  /** One client message, verbatim, as DATA. */
  forward(clientId: number, payload: Uint8Array): void {
    if (!this.clients.has(clientId)) return;
    this.peer.send(encodeData(clientId, payload));
    this.flow.check();
  }

  sendPause(clientId: number): void {
    if (!this.clients.has(clientId)) return;
    this.ctx.metrics.pausesSent++;
    this.peer.send(encodePause(clientId));
  }

  sendResume(clientId: number): void {
    if (this.clients.has(clientId)) this.peer.send(encodeResume(clientId));
  }

  /** The client's socket is gone (or the relay closed it): tell the daemon with the code that ended it. */
  clientLeft(clientId: number, code: number, reason: string): void {
    if (!this.clients.delete(clientId)) return;
    // Close reasons are client-chosen text; keep them within the 123-byte WebSocket limit whatever they hold.
    this.peer.send(encodeClose(clientId, code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES)));
  }

  /** Another socket proved the key for this serverId: this one is history (4004), and so are its clients. */
  replaced(): void {
    this.ctx.log("info", `${this.tag}: replaced by a newer registration`);
    this.closeFromRelay(CloseCode.REPLACED);
  }

  /** The socket closed (any reason): free the slot and tell every client at once (4002). */
  onClose(): void {
    if (this.state === "ready") this.ctx.log("info", `${this.tag}: disconnected`);
    this.end();
  }

  closeFromRelay(code: number, reason: string = closeReason[code] ?? ""): void {
    this.end();
    this.peer.close(code, reason);
  }

  /**
   * Leave the routing table and drop clients without waiting for the socket's close handshake, which a dead or
   * hostile daemon could stretch to ws's 30 s close timeout.
   */
  private end(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.authTimer);
    this.challenge = undefined;
    this.ctx.router.unregister(this);
    const clients = [...this.clients.values()];
    this.clients.clear();
    for (const client of clients) client.daemonGone();
  }

  private applyFlow(signal: FlowSignal): void {
    if (signal === undefined || this.state !== "ready") return;
    if (signal === "overflow") {
      this.ctx.log("warn", `${this.tag}: outbound buffer above ${this.ctx.opts.maxBufferedBytes} bytes; closing`);
      this.closeFromRelay(CloseCode.OVERLOADED);
      return;
    }
    for (const client of this.clients.values()) {
      if (signal === "pause") client.peer.hold(DAEMON_CONGESTED);
      else client.peer.release(DAEMON_CONGESTED);
    }
  }

  private allocateId(): number {
    // Sequential ids are fine: clients never see them, and a u32 does not wrap in any realistic socket lifetime.
    // If it ever does, skip ids still in use.
    for (;;) {
      const id = this.nextClientId;
      this.nextClientId = id >= MAX_CLIENT_ID ? 1 : id + 1;
      if (!this.clients.has(id)) return id;
    }
  }
}
