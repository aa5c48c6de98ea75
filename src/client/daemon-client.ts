/**
 * DaemonClient — the one client used by the CLI, the browser app and library users. It resolves nothing from the
 * environment itself (see offer-resolve.ts); give it an offer (object, link, base64url or JSON text).
 *
 *   const client = new DaemonClient({ offer: link });
 *   const agents = await client.listAgents();   // rides in the handshake: one round trip after the socket opens
 *   for await (const chunk of client.logs(id, { follow: true })) process.stdout.write(chunk.data);
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import type { SessionInfo } from "../protocol/device.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { parseOffer, type Offer } from "../protocol/offer.js";
import {
  READ_ONLY_METHODS,
  type MethodName,
  type Params,
  type Result,
  type AgentInfo,
  type ServerInfo,
  type ExecResult,
} from "../protocol/rpc.js";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { Backoff } from "../shared/backoff.js";
import { connect, type DaemonRef } from "./connect.js";
import { ClientClosedError, ConnectFailedError } from "./errors.js";
import { DeviceAuth, type DeviceCredential, type EnrollOptions, type EnrolledEvent } from "./device-auth.js";

export type { DeviceCredential, EnrollOptions, EnrolledEvent } from "./device-auth.js";
import { validateResult } from "../protocol/rpc-results.js";
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
  offer?: Offer | string;
  /** Connect as an enrolled device (hello 0x02) instead of with an offer (contract: issue 16). */
  device?: DeviceCredential;
  /** With a v4 offer (ticket): enroll this device key (hello 0x03) instead of using the offer as a bearer offer. */
  enroll?: EnrollOptions;
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
  enrolled: [EnrolledEvent];
};

/**
 * A connection to one daemon through its relay (or its local direct server), end-to-end encrypted.
 *
 * Connects lazily: the first request connects (a read-only one rides in the handshake). Events (`on(name, fn)`):
 * `state` (a ConnectionState after each change), `error` (why a connection was lost or an attempt failed — a
 * long-lived client with `reconnect` learns it here), `server` (ServerInfo after each handshake).
 *
 * Errors are PaseoError subclasses with a stable `code` (src/client/errors.ts). Every request may throw:
 * - connecting: RelayUnreachableError (RELAY_UNREACHABLE), DaemonOfflineError (DAEMON_OFFLINE), HandshakeError
 *   (HANDSHAKE_FAILED), OfferExpiredError / OfferRevokedError (the offer no longer admits you), TimeoutError
 *   (TIMEOUT, connectTimeoutMs), ConnectionClosedError (another close code), ConnectFailedError (CONNECT_FAILED);
 * - ClientClosedError (CLIENT_CLOSED) after close();
 * - RpcError: the daemon refused the request (`code` is the daemon's: NOT_FOUND, BAD_PARAMS, …);
 * - TimeoutError: no answer within requestTimeoutMs;
 * - ConnectionClosedError / DaemonOfflineError: the connection was lost while the request was in flight;
 * - RpcProtocolError (RPC_PROTOCOL): the daemon's answer does not have the method's shape (docs/protocol.md §8).
 */
export class DaemonClient extends Emitter<ClientEvents> {
  /** The parsed pairing offer (or enrollment ticket) this client was given; undefined with a device credential. */
  readonly offer: Offer | undefined;
  /** The daemon this client connects to (from the offer or the device credential). */
  readonly daemon: DaemonRef;
  /** How the next handshake authenticates (device-auth.ts): "enroll" becomes "device" once the daemon enrolled us. */
  private readonly auth: DeviceAuth;
  private backend: CryptoBackend | undefined;
  /** The one connection state (daemon-client-state.ts); only nextClientPhase() decides the next one. */
  private phase: Phase = INITIAL_CLIENT_PHASE;
  private readonly backoff: Backoff | undefined;
  private lastServer: ServerInfo | undefined;
  /** The live session's SessionInfo from the welcome (undefined before the first handshake or from older daemons). */
  session: SessionInfo | undefined;
  /**
   * Permanent-looking refusals before any handshake since the last established session (see permanent.ts). Not part
   * of the phase: it is evidence about the path that outlives a give-up (idle), not a state of this connection.
   */
  private preHandshakeRefusals = 0;
  private readonly host: StreamHost;

  static {
    hostOf = (client) => client.host;
  }

  /**
   * Parses the offer; connects nothing yet.
   * @throws OfferError (or a subclass: OfferExpiredError, OfferVersionError, …) when the offer is missing or invalid.
   */
  constructor(private readonly options: DaemonClientOptions) {
    super();
    const offer =
      typeof options.offer === "string" ? parseOffer(options.offer, { backend: options.backend }) : options.offer;
    this.auth = new DeviceAuth(offer, options.device, options.enroll);
    this.offer = this.auth.offer;
    this.daemon = this.auth.daemon;
    const r = options.reconnect;
    if (r)
      this.backoff = new Backoff({
        minMs: (r !== true && r.minMs) || 250,
        maxMs: (r !== true && r.maxMs) || 10_000,
        stableMs: 10_000,
      });
    const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.host = {
      sessionForStreaming: () => this.ensureSession(),
      nextSession: (error) => this.nextSession(error),
      requestTimeoutMs,
    };
  }

  /** Where the connection is now: idle, connecting, connected, reconnecting or closed (see the `state` event). */
  get state(): ConnectionState {
    return this.phase.name;
  }

  /** The daemon's identity and metrics from the last handshake; undefined before the first one. */
  get server(): ServerInfo | undefined {
    return this.lastServer;
  }

  /** Whether this client reconnects by itself after a lost connection. */
  get reconnects(): boolean {
    return this.backoff !== undefined;
  }

  /**
   * Connect now instead of on the first request (idempotent: joins an attempt in progress). Resolves with the
   * daemon's ServerInfo from the handshake.
   * @throws the connecting errors listed on the class, or ClientClosedError after close().
   */
  async connect(): Promise<ServerInfo> {
    await this.ensureSession();
    return this.lastServer!;
  }

  /**
   * The daemon's identity and current host metrics (server.info). Read-only: rides in the handshake if it connects.
   * @throws the request errors listed on the class.
   */
  serverInfo(): Promise<ServerInfo> {
    return this.call("server.info", {});
  }

  /**
   * The daemon's agents (agents.list): running ones, plus ended ones with `all`. Read-only: rides in the handshake.
   * @throws the request errors listed on the class.
   */
  listAgents(options: { all?: boolean } = {}): Promise<AgentInfo[]> {
    return this.call("agents.list", options.all ? { all: true } : {});
  }

  /**
   * One agent by its full id (agents.get; resolve a prefix or name with resolveAgentRef). Read-only.
   * @throws RpcError with code NOT_FOUND when there is no such agent; the request errors listed on the class.
   */
  getAgent(id: string): Promise<AgentInfo> {
    return this.call("agents.get", { id });
  }

  /**
   * Start an agent (agents.run): `argv` (or a shell command with `shell`), optional cwd/env/name, `tty` for a
   * terminal agent. Resolves once it is running.
   * @throws RpcError with code BAD_PARAMS (invalid params, docs/protocol.md §10 limits), BAD_CWD or SPAWN_FAILED
   *   (it could not start); the request errors listed on the class.
   */
  runAgent(params: Params<"agents.run">): Promise<AgentInfo> {
    return this.call("agents.run", params);
  }

  /**
   * Write to a running agent's stdin (agents.input; for a terminal agent use attach() and write()). Resolves with
   * the number of bytes accepted.
   * @throws RpcError with code NOT_FOUND, or NOT_RUNNING once the agent has ended; the request errors listed on
   *   the class.
   */
  async sendInput(id: string, data: string | Uint8Array): Promise<number> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return (await this.call("agents.input", { id, dataB64: toBase64Url(bytes) })).bytes;
  }

  /**
   * Stop an agent (agents.stop): SIGTERM to its process group, SIGKILL after `graceMs`. Resolves with its final
   * AgentInfo once it has ended.
   * @throws RpcError with code NOT_FOUND or BAD_PARAMS; the request errors listed on the class.
   */
  stopAgent(id: string, options: { graceMs?: number } = {}): Promise<AgentInfo> {
    return this.call("agents.stop", { id, ...options });
  }

  /**
   * Run a command to completion and collect its output (exec), like `ssh host cmd`. Output past maxOutputBytes is
   * cut (`truncated`); past timeoutMs it is killed (`timedOut`). The request waits timeoutMs + requestTimeoutMs.
   * @throws RpcError with code BAD_PARAMS, BAD_CWD or SPAWN_FAILED (it could not start); the request errors listed
   *   on the class.
   */
  async exec(
    argv: string[],
    options: Omit<Params<"exec">, "argv"> = {},
  ): Promise<ExecResult & { stdout: Uint8Array; stderr: Uint8Array }> {
    const timeout = (options.timeoutMs ?? 30_000) + (this.options.requestTimeoutMs ?? 15_000);
    const result = await this.call("exec", { argv, ...options }, timeout);
    return {
      ...result,
      stdout: fromBase64Url(result.stdoutB64) ?? new Uint8Array(),
      stderr: fromBase64Url(result.stderrB64) ?? new Uint8Array(),
    };
  }

  /**
   * An agent's output from `since` (inclusive). With `follow`, streams live output until the agent ends; with
   * auto-reconnect on, a dropped connection resumes from the last sequence number seen — no gap, no repeat.
   * Iterating throws what a request throws (see the class), and LogGapError (LOG_GAP) if chunks arrive out of order.
   */
  logs(id: string, options: LogsOptions = {}): AsyncIterable<LogChunk> {
    return followLogs(this.host, id, options);
  }

  /**
   * Attach to a terminal agent (started with `tty: true` / `paseo run --tty`): its screen, then live output, and —
   * when you hold the writer lane — its keyboard and size. See TerminalSession. With auto-reconnect on, a dropped
   * connection re-attaches and resumes with no lost or repeated bytes.
   * @throws RpcError with code NOT_FOUND, or NOT_A_TERMINAL for a pipe agent; the request errors listed on the class.
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

  /**
   * Close the connection (with a goodbye the daemon can see) and stop any reconnecting. Final: requests after this
   * throw ClientClosedError, and a request waiting for a reconnect fails with its last error. Never throws.
   */
  close(): void {
    const phase = this.phase;
    if (phase.name === "reconnecting") phase.wait?.cancel();
    currentSession(phase)?.close(1000, "client closed");
    this.apply({ type: "close" });
  }

  /**
   * Any method of docs/protocol.md §8, typed by name; read-only ones made before connecting ride in the handshake's
   * early data. The result is checked against the method's shape before it is returned.
   * @throws everything listed on the class; RpcProtocolError when the result is malformed.
   */
  async call<M extends MethodName>(method: M, params: Params<M>, timeoutMs?: number): Promise<Result<M>> {
    const timeout = timeoutMs ?? this.options.requestTimeoutMs ?? 15_000;
    if (mayRideHandshake(this.phase) && READ_ONLY_METHODS.has(method)) {
      const { early } = await this.connection({ method, params: params as Record<string, unknown> });
      if (early) return validateResult(method, await early); // no `early` after a reconnect dropped the early request
    }
    const session = await this.ensureSession();
    return validateResult(method, await session.request(method, params as Record<string, unknown>, timeout));
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
        const backend = this.backend;
        const connected = await this.auth.handshake(backend, (auth) =>
          connect({
            daemon: this.daemon,
            auth,
            backend,
            WebSocket,
            url: this.options.url,
            early,
            timeoutMs: this.options.connectTimeoutMs ?? 10_000,
            keepaliveMs: this.options.keepaliveMs ?? 15_000,
          }),
        );
        const session = connected.session;
        if (this.phase.name === "closed") {
          session.close(1000, "client closed");
          throw closedError();
        }
        this.preHandshakeRefusals = 0;
        this.lastServer = connected.server;
        this.session = connected.info;
        const enrolled = this.auth.established(backend, connected);
        this.backoff?.connected();
        session.onClose((err) => this.onSessionClosed(session, err));
        this.apply({ type: "established", session });
        this.emit("server", connected.server);
        if (enrolled) this.emit("enrolled", enrolled);

        return { session, early: connected.early };
      } catch (err) {
        const error = err instanceof PaseoError ? err : new ConnectFailedError(String(err));
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
  return new ClientClosedError();
}
