/**
 * DaemonClient — the one client used by the CLI, the browser app and library users. It resolves nothing from the
 * environment itself (see offer-resolve.ts); give it an offer (object, link, base64url or JSON text).
 *
 *   const client = new DaemonClient({ offer: link });
 *   const agents = await client.listAgents();   // rides in the handshake: one round trip after the socket opens
 *   for await (const chunk of client.logs(id, { follow: true })) process.stdout.write(chunk.data);
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { parseOffer, type Offer } from "../protocol/offer.js";
import { OfferError } from "../protocol/offer-errors.js";
import { READ_ONLY_METHODS, type MethodName, type Params, type Result, type AgentInfo, type ServerInfo, type ExecResult } from "../protocol/rpc.js";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { Backoff } from "./backoff.js";
import { connect } from "./connect.js";
import { Emitter } from "./emitter.js";
import { isPermanent, PRE_HANDSHAKE_REFUSALS_BELIEVED, type CloseOrigin } from "./permanent.js";
import { followLogs, type LogChunk, type LogsOptions } from "./logs.js";
import type { Session } from "./session.js";
import { TerminalSession, type AttachOptions } from "./terminal-session.js";
import { resolveWebSocket, type WebSocketConstructor } from "./transport.js";
import {
  attemptInProgress,
  currentSession,
  INITIAL_CLIENT_PHASE,
  mayRideHandshake,
  nextClientPhase,
  type ClientEvent,
  type ClientPhase,
  type ConnectionState,
} from "./daemon-client-state.js";

export type { ConnectionState } from "./daemon-client-state.js";

/** A connection attempt: the session, and the answer to the request that rode in its hello, if any. */
type Attempt = Promise<{ session: Session; early?: Promise<unknown> }>;
/** A backoff wait between attempts; close() cancels it so no reconnect loop (or its awaiting caller) hangs. */
interface ReconnectWait {
  cancel(): void;
}
type Phase = ClientPhase<Session, Attempt, ReconnectWait>;

/**
 * What logs.ts, terminal-session.ts and the CLI's ResilientHost need from a DaemonClient to resume a stream: the
 * current session, the next one after a drop, and the per-request timeout. Not part of the package API (src/index.ts
 * does not export it): reach it with streamHost(client).
 */
export interface StreamHost {
  /** The current session, connecting if needed. */
  sessionForStreaming(): Promise<Session>;
  /** The next session after a drop; rethrows `error` when reconnect is off, the client closed, or it is permanent. */
  nextSession(error: PaseoError): Promise<Session>;
  readonly requestTimeoutMs: number;
}

let hostOf: (client: DaemonClient) => StreamHost;

/** The streaming internals of `client` (for this package's own modules; see StreamHost). */
export function streamHost(client: DaemonClient): StreamHost {
  return hostOf(client);
}

export interface DaemonClientOptions {
  /** The pairing offer: an Offer object, a link, bare base64url or JSON text. */
  offer: Offer | string;
  /** Connect here instead of the relay named in the offer (the local direct server uses this). */
  url?: string;
  backend?: CryptoBackend;
  WebSocket?: WebSocketConstructor;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * Probe a quiet connection this often and treat a silent path as lost after the same again (default 15 s;
   * 0 = off). This is how a follower notices a half-open socket that never delivers a close.
   */
  keepaliveMs?: number;
  /** Reconnect automatically after a lost connection (off by default; long-lived clients turn it on). */
  reconnect?: boolean | { minMs?: number; maxMs?: number };
}

type ClientEvents = {
  state: [ConnectionState];
  error: [PaseoError];
  server: [ServerInfo];
};

export class DaemonClient extends Emitter<ClientEvents> {
  readonly offer: Offer;
  private backend: CryptoBackend | undefined;
  /** The one connection state (daemon-client-state.ts); only nextClientPhase() decides the next one. */
  private phase: Phase = INITIAL_CLIENT_PHASE;
  private readonly backoff: Backoff | undefined;
  private lastServer: ServerInfo | undefined;
  /**
   * Permanent-looking refusals before any handshake since the last established session (see permanent.ts). Not part
   * of the phase: it is evidence about the path that outlives a give-up (idle), not a state of this connection.
   */
  private preHandshakeRefusals = 0;
  private readonly host: StreamHost;

  static {
    hostOf = (client) => client.host;
  }

  constructor(private readonly options: DaemonClientOptions) {
    super();
    this.offer = typeof options.offer === "string" ? parseOffer(options.offer, { backend: options.backend }) : options.offer;
    if (!this.offer || typeof this.offer !== "object") throw new OfferError("no offer given");
    const r = options.reconnect;
    if (r) this.backoff = new Backoff({ minMs: (r !== true && r.minMs) || 250, maxMs: (r !== true && r.maxMs) || 10_000, stableMs: 10_000 });
    const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.host = {
      sessionForStreaming: () => this.ensureSession(),
      nextSession: (error) => this.nextSession(error),
      requestTimeoutMs,
    };
  }

  get state(): ConnectionState {
    return this.phase.name;
  }

  /** The daemon's identity and metrics from the last handshake. */
  get server(): ServerInfo | undefined {
    return this.lastServer;
  }

  /** Whether this client reconnects by itself after a lost connection. */
  get reconnects(): boolean {
    return this.backoff !== undefined;
  }

  /** Connect (idempotent). Resolves with the daemon's ServerInfo. */
  async connect(): Promise<ServerInfo> {
    await this.ensureSession();
    return this.lastServer!;
  }

  serverInfo(): Promise<ServerInfo> {
    return this.call("server.info", {});
  }
  listAgents(options: { all?: boolean } = {}): Promise<AgentInfo[]> {
    return this.call("agents.list", options.all ? { all: true } : {});
  }
  getAgent(id: string): Promise<AgentInfo> {
    return this.call("agents.get", { id });
  }
  runAgent(params: Params<"agents.run">): Promise<AgentInfo> {
    return this.call("agents.run", params);
  }
  async sendInput(id: string, data: string | Uint8Array): Promise<number> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return (await this.call("agents.input", { id, dataB64: toBase64Url(bytes) })).bytes;
  }
  stopAgent(id: string, options: { graceMs?: number } = {}): Promise<AgentInfo> {
    return this.call("agents.stop", { id, ...options });
  }
  async exec(argv: string[], options: Omit<Params<"exec">, "argv"> = {}): Promise<ExecResult & { stdout: Uint8Array; stderr: Uint8Array }> {
    const timeout = (options.timeoutMs ?? 30_000) + (this.options.requestTimeoutMs ?? 15_000);
    const result = await this.call("exec", { argv, ...options }, timeout);
    return { ...result, stdout: fromBase64Url(result.stdoutB64) ?? new Uint8Array(), stderr: fromBase64Url(result.stderrB64) ?? new Uint8Array() };
  }

  /**
   * An agent's output from `since` (inclusive). With `follow`, streams live output until the agent ends; with
   * auto-reconnect on, a dropped connection resumes from the last sequence number seen — no gap, no repeat.
   */
  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogChunk> {
    return followLogs(this.host, id, options);
  }

  /**
   * Attach to a terminal agent (started with `tty: true` / `paseo run --tty`): its screen, then live output, and —
   * when you hold the writer lane — its keyboard and size. See TerminalSession. With auto-reconnect on, a dropped
   * connection re-attaches and resumes with no lost or repeated bytes.
   */
  async attach(id: string, options: AttachOptions = {}): Promise<TerminalSession> {
    const terminal = new TerminalSession(this.host, id, options);
    await terminal.start();
    return terminal;
  }

  /** Wait for the next session after a drop, or rethrow `error` if reconnect is off / we closed / it is permanent. */
  private async nextSession(error: PaseoError): Promise<Session> {
    if (!this.backoff || this.phase.name === "closed" || isPermanent(error)) throw error;
    return this.ensureSession();
  }

  close(): void {
    const phase = this.phase;
    if (phase.name === "reconnecting") phase.wait?.cancel();
    currentSession(phase)?.close(1000, "client closed");
    this.apply({ type: "close" });
  }

  /** A typed request; read-only ones made before connecting ride in the handshake's early data. */
  async call<M extends MethodName>(method: M, params: Params<M>, timeoutMs?: number): Promise<Result<M>> {
    const timeout = timeoutMs ?? this.options.requestTimeoutMs ?? 15_000;
    if (mayRideHandshake(this.phase) && READ_ONLY_METHODS.has(method)) {
      const { early } = await this.connection({ method, params: params as Record<string, unknown> });
      if (early) return (await early) as Result<M>; // undefined after a reconnect dropped the early request
    }
    const session = await this.ensureSession();
    return (await session.request(method, params as Record<string, unknown>, timeout)) as Result<M>;
  }

  private async ensureSession(): Promise<Session> {
    return (await this.connection()).session;
  }

  /** The live session, or the one being opened (only the call that starts a connection may attach an early request). */
  private connection(early?: { method: string; params: Record<string, unknown> }): Attempt {
    if (this.phase.name === "closed") return Promise.reject(closedError());
    const session = currentSession(this.phase);
    // A session that closed a moment ago and has not reported it yet: report it first, so the loss is handled once
    // (error event, backoff) and the attempt below is a reconnection.
    if (session?.closeError) this.onSessionClosed(session, session.closeError);
    else if (session) return Promise.resolve({ session });
    const inProgress = attemptInProgress(this.phase);
    if (inProgress) return inProgress;
    // open() reads no state before its first await, so the attempt is recorded before it can look.
    const attempt = this.open(early);
    this.apply({ type: "dial", attempt });
    return attempt;
  }

  private async open(early?: { method: string; params: Record<string, unknown> }): Attempt {
    let WebSocket: WebSocketConstructor;
    try {
      this.backend ??= this.options.backend ?? (await loadDefaultBackend());
      WebSocket = await resolveWebSocket(this.options.WebSocket);
    } catch (err) {
      this.apply({ type: "gave-up" });
      throw err;
    }
    for (;;) {
      try {
        const connected = await connect({
          offer: this.offer,
          backend: this.backend,
          WebSocket,
          url: this.options.url,
          early,
          timeoutMs: this.options.connectTimeoutMs ?? 10_000,
          keepaliveMs: this.options.keepaliveMs ?? 15_000,
        });
        const session = connected.session;
        if (this.phase.name === "closed") {
          session.close(1000, "client closed");
          throw closedError();
        }
        this.preHandshakeRefusals = 0;
        this.lastServer = connected.server;
        this.backoff?.connected();
        session.onClose((err) => this.onSessionClosed(session, err));
        this.apply({ type: "established", session });
        this.emit("server", connected.server);
        return { session, early: connected.early };
      } catch (err) {
        const error = err instanceof PaseoError ? err : new PaseoError("CONNECT_FAILED", String(err));
        const closed = this.phase.name === "closed";
        if (!this.backoff || closed || this.believeRefusal(error)) {
          this.apply({ type: "gave-up" });
          if (this.backoff && !closed) this.emit("error", error); // a long-lived client learns why it gave up
          throw error;
        }
        this.emit("error", error);
        early = undefined;
        const delay = this.backoff.next();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.apply({ type: "retry-wait", wait: { cancel: () => (clearTimeout(timer), resolve()) } });
        });
        this.apply({ type: "retry-dial" });
        if (this.phase.name === "closed") throw error;
      }
    }
  }

  /**
   * Whether a reconnecting client stops on a failed connection attempt. Everything connect() throws happened before
   * the channel existed, so nothing in it is authenticated (a refusal code, or a message 2 that did not decrypt,
   * may be the relay's doing): a permanent-looking one is believed only when it repeats (permanent.ts).
   */
  private believeRefusal(error: PaseoError): boolean {
    if (!isPermanent(error)) return false;
    if ((error as PaseoError & CloseOrigin).closeTrust === undefined && error.code !== "CLIENT_CLOSED") {
      (error as PaseoError & CloseOrigin).closeTrust = "pre-handshake";
    }
    if ((error as PaseoError & CloseOrigin).closeTrust !== "pre-handshake") return true;
    return ++this.preHandshakeRefusals >= PRE_HANDSHAKE_REFUSALS_BELIEVED;
  }

  private onSessionClosed(session: Session, err: PaseoError): void {
    if (currentSession(this.phase) !== session) return; // replaced, or close() already ended it
    const retry = this.backoff !== undefined && !isPermanent(err);
    const before = this.phase.name;
    this.phase = nextClientPhase(this.phase, { type: "lost", session, retry });
    this.backoff?.disconnected();
    // The error first, then the state it led to (listeners see why before they see "reconnecting"/"idle").
    this.emit("error", err);
    if (this.phase.name !== before) this.emit("state", this.phase.name);
    if (retry) void this.ensureSession().catch(() => {});
  }

  /** Feed one event to the state machine and announce a change of state name. */
  private apply(event: ClientEvent<Session, Attempt, ReconnectWait>): void {
    const before = this.phase.name;
    this.phase = nextClientPhase(this.phase, event);
    if (this.phase.name !== before) this.emit("state", this.phase.name);
  }
}

function closedError(): PaseoError {
  return new PaseoError("CLIENT_CLOSED", "this DaemonClient was closed; create a new one");
}
