/**
 * The daemon's outbound link to the relay: registers as role=server by proving its static key (§5.2), demultiplexes
 * clients (§5.3) into ClientPipes, reconnects with jittered exponential backoff, and keeps the path alive with
 * WebSocket pings whose round trip `paseo daemon status` reports. A rejected key or protocol mismatch stops the
 * retry loop with a clear error instead of hammering the relay forever.
 */
import { WebSocket } from "ws";
import { buildRelayUrl, type RelayEndpoint } from "../client/relay-url.js";
import { Backoff } from "../client/backoff.js";
import type { CryptoBackend, KeyPair } from "../protocol/crypto/backend.js";
import { CloseCode, closeCodeName } from "../protocol/close-codes.js";
import { authForChallenge } from "../protocol/relay-auth.js";
import { decodeMux, encodeClose, encodeData, encodePause, encodeResume, MUX_VERSION_TAGGED, type MuxMessage } from "../protocol/relay-mux.js";
import { FairScheduler } from "./fair-scheduler.js";
import type { Logger } from "./logger.js";
import { shortId } from "../protocol/server-id.js";
import type { ClientPipe, PipeHandler } from "./pipe.js";
import { SendFlow } from "../relay/flow.js";
import { SEND_HIGH_WATER, SEND_LOW_WATER } from "./flow-limits.js";

export type RelayLinkState = "connecting" | "authenticating" | "connected" | "backoff" | "rejected" | "stopped";

export interface RelayLinkStatus {
  endpoint: string;
  tls: boolean;
  state: RelayLinkState;
  connectedSince: string | null;
  lastRttMs: number | null;
  lastPongAt: string | null;
  reconnects: number;
  lastError: string | null;
  clients: number;
}

export interface RelayLinkOptions {
  relay: RelayEndpoint;
  serverId: string;
  staticKey: KeyPair;
  backend: CryptoBackend;
  log: Logger;
  onClient(pipe: ClientPipe): PipeHandler;
  onStatus?(status: RelayLinkStatus): void;
  pingIntervalMs?: number;
  backoff?: { minMs: number; maxMs: number; stableMs: number };
}

/** Close codes after which retrying cannot help. */
const FATAL_CLOSES = new Set<number>([CloseCode.AUTH_FAILED, CloseCode.PROTOCOL_MISMATCH, CloseCode.REPLACED, CloseCode.BAD_REQUEST]);

export class RelayLink {
  private socket: WebSocket | undefined;
  private readonly clients = new Map<number, { pipe: RelayPipe; handler: PipeHandler }>();
  private readonly backoff: Backoff;
  /** Outbound backpressure of the current socket, driven by ws send callbacks (shared by every client pipe). */
  private readonly sendFlow = new SendFlow({ high: SEND_HIGH_WATER, low: SEND_LOW_WATER });
  /** Inbound client messages are served round-robin so one flooding client cannot delay the others. */
  private readonly scheduler = new FairScheduler<number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** Registration deadline of the current socket: a path that accepts TCP and then goes silent must not hang. */
  private registerTimer: ReturnType<typeof setTimeout> | undefined;
  private pingSentAt = 0;
  private awaitingPong = 0;
  /**
   * Where the current socket is in registration (§5.2): a CHALLENGE is answered once, READY is accepted only after
   * that AUTH, and client messages only after READY. Anything out of order is a protocol violation (reconnect), so a
   * forged READY cannot make the daemon report "connected" on a path where it never registered.
   */
  private registration: "challenge" | "auth-sent" | "ready" = "challenge";
  private readonly current: RelayLinkStatus;

  constructor(private readonly options: RelayLinkOptions) {
    this.backoff = new Backoff(options.backoff ?? { minMs: 500, maxMs: 30_000, stableMs: 60_000 });
    this.current = {
      endpoint: options.relay.endpoint,
      tls: options.relay.tls,
      state: "connecting",
      connectedSince: null,
      lastRttMs: null,
      lastPongAt: null,
      reconnects: 0,
      lastError: null,
      clients: 0,
    };
  }

  get status(): RelayLinkStatus {
    return { ...this.current, clients: this.clients.size };
  }

  start(): void {
    this.connect();
  }

  /** Resolves once the first registration succeeded or failed (or after timeoutMs). */
  firstAttempt(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.firstAttemptListener = undefined;
        resolve();
      }
      this.firstAttemptListener = (s) => {
        if (s.state === "connected" || s.state === "backoff" || s.state === "rejected") done();
      };
    });
  }
  private firstAttemptListener: ((s: RelayLinkStatus) => void) | undefined;

  /**
   * Stop for good: close every client still routed with `code`, then the socket. Resolves once the relay has
   * answered the socket's close (it read every CLOSE we sent before it), or after `waitMs` — so an embedded relay
   * stopped right after this cannot overtake our per-client 4110 with its own 4009.
   */
  stop(code: number = CloseCode.DAEMON_SHUTDOWN, waitMs = 1000): Promise<void> {
    this.update({ state: "stopped" });
    clearTimeout(this.registerTimer);
    if (this.timer) clearTimeout(this.timer);
    for (const [clientId, { handler }] of this.clients) {
      this.sendRaw(encodeClose(clientId, code, "daemon shutting down"));
      this.scheduler.remove(clientId);
      handler.closed();
    }
    this.clients.clear();
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => (socket.terminate(), resolve()), waitMs);
      socket.once("close", () => (clearTimeout(timer), resolve()));
    });
    this.teardownSocket(1000, "daemon stopping");
    return closed;
  }

  private connect(): void {
    if (this.current.state === "stopped" || this.current.state === "rejected") return;
    const { relay, serverId, log } = this.options;
    this.update({ state: "connecting" });
    // mux=2: ask for OPENs tagged with the client's source (§5.3); a relay that predates it ignores the parameter.
    const socket = new WebSocket(`${buildRelayUrl(relay, "server", serverId)}&mux=${MUX_VERSION_TAGGED}`, { maxPayload: 2 * 1024 * 1024, perMessageDeflate: false });
    this.socket = socket;
    this.registration = "challenge";
    // Same rule as the keepalive: nothing that completes registration within two ping intervals = a dead path.
    const deadline = 2 * (this.options.pingIntervalMs ?? 15_000);
    clearTimeout(this.registerTimer);
    this.registerTimer = setTimeout(() => {
      if (socket !== this.socket || this.registration === "ready") return;
      log("warn", `relay ${shortId(serverId)}: not registered within ${deadline} ms; reconnecting`);
      socket.terminate();
    }, deadline);
    socket.binaryType = "nodebuffer";
    socket.on("open", () => this.update({ state: "authenticating" }));
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (socket !== this.socket) return;
      // Not BAD_REQUEST: the relay echoes our close code, and 4000 from the relay is fatal (we would stop retrying).
      if (!isBinary) return this.teardownSocket(CloseCode.PROTOCOL_ERROR, "text frame");
      try {
        this.onMessage(decodeMux(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
      } catch (err) {
        log("warn", `relay ${shortId(serverId)}: bad message from relay (${(err as Error).message}); reconnecting`);
        this.teardownSocket(CloseCode.PROTOCOL_ERROR, "bad mux message");
      }
    });
    socket.on("pong", () => {
      if (socket !== this.socket) return;
      this.awaitingPong = 0;
      this.update({ lastRttMs: Math.round((performance.now() - this.pingSentAt) * 100) / 100, lastPongAt: new Date().toISOString() });
    });
    socket.on("error", (err) => {
      if (socket === this.socket) this.current.lastError = err.message;
    });
    socket.on("close", (code, reason) => {
      if (socket !== this.socket) return;
      this.onClosed(code, reason.toString());
    });
  }

  private onMessage(msg: MuxMessage): void {
    const { serverId, staticKey, backend, log } = this.options;
    switch (msg.type) {
      case "challenge": {
        if (this.registration !== "challenge") throw new Error("a second CHALLENGE on one connection");
        const auth = authForChallenge(backend, staticKey, serverId, msg);
        this.registration = "auth-sent";
        this.sendRaw(auth);
        return;
      }
      case "ready":
        if (this.registration !== "auth-sent") throw new Error("READY without a preceding CHALLENGE/AUTH");
        this.registration = "ready";
        clearTimeout(this.registerTimer);
        this.backoff.connected();
        this.update({ state: "connected", connectedSince: new Date().toISOString(), lastError: null });
        log("info", `relay ${shortId(serverId)}: connected to ${this.options.relay.endpoint}`);
        this.startPings();
        return;
    }
    if (this.registration !== "ready") throw new Error(`${msg.type.toUpperCase()} before READY`);
    switch (msg.type) {
      case "open": {
        // An OPEN for an id in use (a broken or hostile relay): the old connection is over; release it.
        const previous = this.clients.get(msg.clientId);
        if (previous) {
          this.clients.delete(msg.clientId);
          this.scheduler.remove(msg.clientId);
          previous.handler.closed();
        }
        const pipe = new RelayPipe(msg.clientId, this, msg.source && `relay:${toHex(msg.source)}`);
        const handler = this.options.onClient(pipe);
        // Refused at once (e.g. BUSY): its CLOSE is already sent, so there is nothing to route to it.
        if (pipe.isClosed) return handler.closed();
        this.clients.set(msg.clientId, { pipe, handler });
        const clientId = msg.clientId;
        this.scheduler.add(
          clientId,
          (data) => handler.receive(data),
          (paused) => this.sendRaw(paused ? encodePause(clientId) : encodeResume(clientId)),
        );
        return;
      }
      case "data": {
        const entry = this.clients.get(msg.clientId);
        if (entry) this.scheduler.push(msg.clientId, msg.payload);
        else this.sendRaw(encodeClose(msg.clientId, CloseCode.PROTOCOL_ERROR, "unknown client"));
        return;
      }
      case "close": {
        const entry = this.clients.get(msg.clientId);
        this.clients.delete(msg.clientId);
        this.scheduler.remove(msg.clientId);
        entry?.handler.closed();
        return;
      }
      case "pause":
        this.clients.get(msg.clientId)?.pipe.setPaused(true);
        return;
      case "resume":
        this.clients.get(msg.clientId)?.pipe.setPaused(false);
        return;
      default:
        throw new Error(`unexpected ${msg.type} from relay`);
    }
  }

  private onClosed(code: number, reason: string): void {
    this.stopPings();
    clearTimeout(this.registerTimer);
    for (const [clientId, { handler }] of this.clients) {
      this.scheduler.remove(clientId);
      handler.closed();
    }
    this.clients.clear();
    this.socket = undefined;
    this.sendFlow.reset();
    this.backoff.disconnected();
    const { log, serverId } = this.options;
    if (this.current.state === "stopped") return;
    if (FATAL_CLOSES.has(code)) {
      const why =
        code === CloseCode.REPLACED
          ? "another daemon with this identity connected to the relay and took over"
          : code === CloseCode.AUTH_FAILED
            ? "the relay rejected this daemon's key proof"
            : `the relay refused the connection (${closeCodeName(code)})`;
      this.update({ state: "rejected", connectedSince: null, lastError: `${why} [${code}]` });
      log("error", `relay ${shortId(serverId)}: ${why}; not retrying. Check the relay address and restart the daemon.`);
      return;
    }
    const delay = this.backoff.next();
    this.update({
      state: "backoff",
      connectedSince: null,
      reconnects: this.current.reconnects + 1,
      lastError: this.current.lastError ?? `closed ${code}${reason ? ` ${reason}` : ""}`,
    });
    log("info", `relay ${shortId(serverId)}: disconnected (${code}${reason ? ` ${reason}` : ""}); retrying in ${delay} ms`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private startPings(): void {
    this.stopPings();
    const interval = this.options.pingIntervalMs ?? 15_000;
    const ping = () => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
      if (this.awaitingPong >= 2) {
        this.options.log("warn", `relay ${shortId(this.options.serverId)}: no pong for ${2 * interval} ms; reconnecting`);
        this.current.lastError = "keepalive timeout";
        this.socket.terminate();
        return;
      }
      this.awaitingPong++;
      this.pingSentAt = performance.now();
      this.socket.ping();
    };
    ping();
    this.pingTimer = setInterval(ping, interval);
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.awaitingPong = 0;
  }

  private teardownSocket(code: number, reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.close(code, reason);
    } catch {
      socket.terminate();
    }
  }

  private update(patch: Partial<RelayLinkStatus>): void {
    Object.assign(this.current, patch);
    this.options.onStatus?.(this.status);
    this.firstAttemptListener?.(this.status);
  }

  /** Internal to RelayPipe. */
  sendRaw(bytes: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.sendFlow.send(this.socket, bytes);
  }
  get socketWritable(): boolean {
    return this.sendFlow.writable;
  }
  whenSocketWritable(listener: () => void): void {
    this.sendFlow.onWritable(listener);
  }
  /** The daemon closed this client: drop the route and release its handler (once). */
  forget(pipe: RelayPipe, clientId: number): void {
    const entry = this.clients.get(clientId);
    if (entry?.pipe !== pipe) return;
    this.clients.delete(clientId);
    this.scheduler.remove(clientId);
    entry.handler.closed();
  }
}

class RelayPipe implements ClientPipe {
  readonly label: string;
  private paused = false;
  private closedByDaemon = false;
  private resumeListeners: (() => void)[] = [];

  constructor(
    private readonly clientId: number,
    private readonly link: RelayLink,
    readonly source: string | undefined,
  ) {
    this.label = `relay#${clientId}`;
  }

  send(data: Uint8Array): void {
    this.link.sendRaw(encodeData(this.clientId, data));
  }

  close(code: number, reason: string): void {
    if (this.closedByDaemon) return;
    this.closedByDaemon = true;
    this.link.sendRaw(encodeClose(this.clientId, code, reason));
    this.link.forget(this, this.clientId);
  }

  get isClosed(): boolean {
    return this.closedByDaemon;
  }

  get writable(): boolean {
    return !this.paused && this.link.socketWritable;
  }

  onWritable(listener: () => void): void {
    if (this.paused) this.resumeListeners.push(() => this.onWritable(listener));
    else if (!this.link.socketWritable) this.link.whenSocketWritable(listener);
    else listener();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) for (const l of this.resumeListeners.splice(0)) l();
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
