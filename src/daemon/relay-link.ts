/**
 * The daemon's outbound link to the relay: registers as role=server by proving its static key (§5.2), demultiplexes
 * clients (§5.3) into ClientPipes, reconnects with jittered exponential backoff, and keeps the path alive with
 * WebSocket pings whose round trip `paseo daemon status` reports. A rejected key or protocol mismatch stops the
 * retry loop with a clear error instead of hammering the relay forever.
 */
import { WebSocket } from "ws";
import { buildRelayUrl, type RelayEndpoint } from "../protocol/relay-url.js";
import { Backoff } from "../shared/backoff.js";
import type { CryptoBackend, KeyPair } from "../protocol/crypto/backend.js";
import { CloseCode } from "../protocol/close-codes.js";
import { authForChallenge } from "../protocol/relay-auth.js";
import {
  decodeMux,
  encodeClose,
  encodeData,
  encodePause,
  encodeResume,
  MUX_VERSION_TAGGED,
  type MuxMessage,
} from "../protocol/relay-mux.js";
import { FairScheduler } from "./fair-scheduler.js";
import type { Logger } from "./logger.js";
import { shortId } from "../protocol/server-id.js";
import type { ClientPipe, PipeHandler } from "./pipe.js";
import {
  INITIAL_PHASE,
  isFinal,
  MAX_MISSED_PONGS,
  transition,
  type RelayLinkEvent,
  type RelayLinkPhase,
  type RelayLinkState,
} from "./relay-link-state.js";
import { SendFlow } from "../relay/flow.js";
import { SEND_HIGH_WATER, SEND_LOW_WATER } from "./flow-limits.js";

export type { RelayLinkState } from "./relay-link-state.js";

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

/** The reporting fields a transition may change (the state name comes from the phase, `clients` from the map). */
type StatusPatch = Partial<Omit<RelayLinkStatus, "state" | "clients">>;

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
  /**
   * The one connection state (relay-link-state.ts): registration step, missed pongs and whether we retry all live
   * here, and only transition() decides the next one.
   */
  private phase: RelayLinkPhase = INITIAL_PHASE;
  /** What `status` reports besides the state name (kept across reconnects). */
  private readonly current: Omit<RelayLinkStatus, "state" | "clients">;
  /** Set while someone awaits firstAttempt(). */
  private firstAttemptListener: ((state: RelayLinkState) => void) | undefined;

  constructor(private readonly options: RelayLinkOptions) {
    this.backoff = new Backoff(options.backoff ?? { minMs: 500, maxMs: 30_000, stableMs: 60_000 });
    this.current = {
      endpoint: options.relay.endpoint,
      tls: options.relay.tls,
      connectedSince: null,
      lastRttMs: null,
      lastPongAt: null,
      reconnects: 0,
      lastError: null,
    };
  }

  get status(): RelayLinkStatus {
    return { ...this.current, state: this.phase.name, clients: this.clients.size };
  }

  start(): void {
    this.connect();
  }

  /** Resolves once the first registration succeeded or failed (or after timeoutMs). */
  firstAttempt(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.firstAttemptListener = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.firstAttemptListener = (state) => {
        if (state === "connected" || state === "backoff" || state === "rejected") done();
      };
    });
  }

  /**
   * Stop for good: close every client still routed with `code`, then the socket. Resolves once the relay has
   * answered the socket's close (it read every CLOSE we sent before it), or after `waitMs` — so an embedded relay
   * stopped right after this cannot overtake our per-client 4110 with its own 4009.
   */
  stop(code: number = CloseCode.DAEMON_SHUTDOWN, waitMs = 1000): Promise<void> {
    this.apply({ type: "stop" });
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
    if (isFinal(this.phase)) return;
    const { relay, serverId, log } = this.options;
    this.apply({ type: "dial" }, {});
    // mux=2: ask for OPENs tagged with the client's source (§5.3); a relay that predates it ignores the parameter.
    const socket = new WebSocket(`${buildRelayUrl(relay, "server", serverId)}&mux=${MUX_VERSION_TAGGED}`, {
      maxPayload: 2 * 1024 * 1024,
      perMessageDeflate: false,
    });
    this.socket = socket;
    // Same rule as the keepalive: nothing that completes registration within two ping intervals = a dead path.
    const deadline = 2 * (this.options.pingIntervalMs ?? 15_000);
    clearTimeout(this.registerTimer);
    this.registerTimer = setTimeout(() => {
      if (socket !== this.socket || this.phase.name === "connected") return;
      log("warn", `relay ${shortId(serverId)}: not registered within ${deadline} ms; reconnecting`);
      socket.terminate();
    }, deadline);
    socket.binaryType = "nodebuffer";
    socket.on("open", () => {
      if (socket === this.socket) this.apply({ type: "open" });
    });
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
      this.apply({ type: "pong" });
      this.update({
        lastRttMs: Math.round((performance.now() - this.pingSentAt) * 100) / 100,
        lastPongAt: new Date().toISOString(),
      });
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
        // Checked before the AUTH is computed: a second CHALLENGE gets nothing signed.
        const next = transition(this.phase, { type: "challenge" });
        const auth = authForChallenge(backend, staticKey, serverId, msg);
        this.phase = next.next;
        this.sendRaw(auth);
        return;
      }
      case "ready":
        this.apply({ type: "ready" }, { connectedSince: new Date().toISOString(), lastError: null }, () => {
          clearTimeout(this.registerTimer);
          this.backoff.connected();
        });
        log("info", `relay ${shortId(serverId)}: connected to ${this.options.relay.endpoint}`);
        this.startPings();
        return;
    }
    this.apply({ type: "client-message", kind: msg.type });
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
    const { next, effect } = transition(this.phase, { type: "closed", code });
    if (next.name === "rejected") {
      this.enter(next, { connectedSince: null, lastError: `${next.why} [${code}]` });
      log(
        "error",
        `relay ${shortId(serverId)}: ${next.why}; not retrying. Check the relay address and restart the daemon.`,
      );
      return;
    }
    if (effect !== "retry-later") return; // stopped: nothing more happens
    const delay = this.backoff.next();
    this.enter(next, {
      connectedSince: null,
      reconnects: this.current.reconnects + 1,
      lastError: this.current.lastError ?? `closed ${code}${reason ? ` ${reason}` : ""}`,
    });
    log(
      "info",
      `relay ${shortId(serverId)}: disconnected (${code}${reason ? ` ${reason}` : ""}); retrying in ${delay} ms`,
    );
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private startPings(): void {
    this.stopPings();
    const interval = this.options.pingIntervalMs ?? 15_000;
    const ping = () => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
      const { next, effect } = transition(this.phase, { type: "ping-due" });
      this.phase = next;
      if (effect === "keepalive-timeout") {
        this.options.log(
          "warn",
          `relay ${shortId(this.options.serverId)}: no pong for ${MAX_MISSED_PONGS * interval} ms; reconnecting`,
        );
        this.current.lastError = "keepalive timeout";
        this.socket.terminate();
      } else if (effect === "send-ping") {
        this.pingSentAt = performance.now();
        this.socket.ping();
      }
    };
    ping();
    this.pingTimer = setInterval(ping, interval);
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
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

  /**
   * Feed one event to the state machine. Reports the status when the state's name changes or `patch` is given;
   * `before` runs after the transition is accepted and before the report (a RelayOrderError skips both).
   */
  private apply(event: RelayLinkEvent, patch?: StatusPatch, before?: () => void): void {
    const { next } = transition(this.phase, event);
    before?.();
    if (next.name !== this.phase.name || patch) this.enter(next, patch ?? {});
    else this.phase = next;
  }

  private enter(next: RelayLinkPhase, patch: StatusPatch): void {
    this.phase = next;
    this.update(patch);
  }

  private update(patch: StatusPatch): void {
    Object.assign(this.current, patch);
    this.options.onStatus?.(this.status);
    this.firstAttemptListener?.(this.phase.name);
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
