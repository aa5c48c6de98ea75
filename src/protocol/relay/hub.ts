/**
 * One relay's routing state, runtime-neutral: admission (per-IP limits, the request target), the daemon and client
 * sessions, keepalive and metrics. A runtime hands it each upgraded socket (accept) and that socket's events
 * (Connection); the Node relay has one hub per process (src/relay/server.ts), the Worker relay one per Durable
 * Object, i.e. per serverId (src/relay-worker/relay-object.ts).
 *
 * Every refusal is an accepted socket closed with a named code, so peers never have to guess.
 */
import { CloseCode } from "../close-codes.js";
import { CLIENT_HEADER_BYTES } from "../relay-mux.js";
import { fromHex } from "../encoding.js";
import { ClientSession } from "./client-session.js";
import type { RelayContext, Session } from "./context.js";
import { DaemonSession } from "./daemon-session.js";
import { Liveness } from "./keepalive.js";
import { IpLimiter, limiterKey } from "./limits.js";
import { RelayMetrics, type RelayStats } from "./metrics.js";
import type { ResolvedRelayLimits } from "./options.js";
import { Peer } from "./peer.js";
import { PendingClients } from "./pending-clients.js";
import { parseRoute } from "./route.js";
import { Router } from "./router.js";
import type { RelaySocket, SessionRecord } from "./socket.js";

const LIMITER_SWEEP_MS = 60_000;

export interface HubOptions {
  readonly limits: ResolvedRelayLimits;
  /** The runtime enforces maxFrameBytes itself before a message is read (ws's maxPayload); else the hub checks. */
  readonly runtimeCapsFrames: boolean;
  /** The runtime can send WebSocket pings (Node); workerd cannot, and only the idle timeout runs there. */
  readonly pings: boolean;
  /** The tag key of a relay being rebuilt after hibernation (hex), so source tags stay stable. */
  readonly tagKey?: string;
}

/** One socket's events, from the runtime to the hub. */
export interface Connection {
  readonly peer: Peer;
  message(data: Uint8Array, isBinary: boolean): void;
  /** The socket failed (it will close): act at once, do not wait out a close handshake. */
  error(): void;
  /** The socket closed, with the code the peer sent (1006 when none). Idempotent. */
  closed(code: number, reason: string): void;
}

export class RelayHub {
  readonly ctx: RelayContext;
  readonly metrics = new RelayMetrics();
  readonly sessions = new Set<Session>();
  private readonly limiter: IpLimiter;
  private readonly liveness: Liveness;
  private lastSweep = Date.now();
  private clientSessions = 0;
  private stopped = false;

  constructor(private readonly opts: HubOptions) {
    const limits = opts.limits;
    this.ctx = {
      opts: limits,
      metrics: this.metrics,
      router: new Router(),
      pending: new PendingClients(
        limits.perIpPendingClients,
        limits.backend,
        opts.tagKey === undefined ? undefined : fromHex(opts.tagKey),
      ),
      log: (level, message) => {
        try {
          limits.log(level, message);
        } catch {
          // A broken log sink must not take routing down with it.
        }
      },
    };
    this.limiter = new IpLimiter(limits.perIpMaxConnections, limits.perIpRatePerSecond);
    this.liveness = new Liveness(this.sessions, this.ctx, opts.pings);
  }

  stats(): RelayStats {
    return this.metrics.snapshot(this.ctx.router.counts());
  }

  /** Some socket is held (not read) right now: its state is in memory only. */
  get holding(): boolean {
    for (const s of this.sessions) if (s.peer.isHeld) return true;
    return false;
  }

  /** Keepalive/idle timers are running (the Worker relay hibernates only when they are not). */
  get clockRunning(): boolean {
    return this.liveness.running;
  }

  /**
   * An upgraded socket from `address` asking for `rawUrl`: admit it and start its session, or close it with the
   * code that says why (4007 over a per-IP limit, 4000/4010 for a bad target, `refuse` when the runtime is going
   * away). Returns the Connection the runtime feeds the socket's events to.
   */
  accept(socket: RelaySocket, rawUrl: string | undefined, address: string, refuse?: number): Connection {
    const now = Date.now();
    if (now - this.lastSweep > LIMITER_SWEEP_MS) {
      this.lastSweep = now;
      this.limiter.sweep();
    }
    const source = limiterKey(address);
    const admission = this.limiter.admit(source);
    const route = parseRoute(rawUrl);
    const role = route.ok ? route.role : "client";
    const peer = new Peer(socket, role, this.metrics, this.ctx.opts.maxBufferedBytes);
    const release = admission === "ok" ? () => this.limiter.release(source) : () => {};
    if (refuse !== undefined || admission !== "ok" || !route.ok) {
      if (refuse !== undefined) peer.close(refuse);
      else if (admission !== "ok") {
        this.ctx.log("debug", `connection refused: ${admission}`);
        peer.close(
          CloseCode.RATE_LIMITED,
          admission === "too-fast" ? "too many connections per second" : "too many connections",
        );
      } else if (!route.ok) peer.close(route.code, route.reason);
      return this.refused(peer, release);
    }
    const session =
      route.role === "server"
        ? new DaemonSession(route.serverId, peer, this.ctx, route.taggedOpen, source)
        : new ClientSession(route.serverId, peer, this.ctx, source);
    const conn = this.track(session, release);
    session.start();
    return conn;
  }

  /**
   * Rebuild a session after hibernation from what its socket remembered (SessionRecord). Daemons first: a client
   * is reattached to its daemon's session. A client whose daemon is gone is closed with 4002.
   */
  restore(socket: RelaySocket, record: SessionRecord): Connection {
    const peer = new Peer(socket, record.role, this.metrics, this.ctx.opts.maxBufferedBytes, true);
    this.limiter.restore(record.source);
    const release = () => this.limiter.release(record.source);
    if (record.role === "server") {
      const daemon = new DaemonSession(record.serverId, peer, this.ctx, record.taggedOpen, record.source);
      const conn = this.track(daemon, release);
      daemon.restore(record.nextClientId);
      return conn;
    }
    const client = new ClientSession(record.serverId, peer, this.ctx, record.source);
    const conn = this.track(client, release);
    const daemon = this.ctx.router.lookup(record.serverId);
    if (daemon) client.restore(daemon, record.clientId);
    else peer.close(CloseCode.DAEMON_GONE);
    return conn;
  }

  /** Close every session with `code`: clients first, so their daemons see them leave with it, not a 4002 cascade. */
  closeAll(code: number = CloseCode.RELAY_RESTARTING): void {
    const all = [...this.sessions];
    for (const s of all) if (s.peer.role === "client") s.closeFromRelay(code);
    for (const s of all) if (s.peer.role === "server") s.closeFromRelay(code);
  }

  /** Stop the clock for good (shutdown): sessions closing afterwards do not restart it. */
  stop(): void {
    this.stopped = true;
    this.liveness.stop();
  }

  private refused(peer: Peer, release: () => void): Connection {
    let done = false;
    return {
      peer,
      message: () => {},
      error: () => {},
      closed: (code) => {
        if (done) return;
        done = true;
        peer.closed(code);
        release();
      },
    };
  }

  private track(session: DaemonSession | ClientSession, release: () => void): Connection {
    const { peer } = session;
    const isDaemon = session instanceof DaemonSession;
    this.sessions.add(session);
    if (!isDaemon) this.clientSessions++;
    this.updateClock();
    // Daemon DATA carries a client-sized payload plus the 5-byte mux header.
    const maxMessage = this.ctx.opts.maxFrameBytes + (isDaemon ? CLIENT_HEADER_BYTES : 0);
    let done = false;
    return {
      peer,
      message: (data, isBinary) => {
        if (done) return;
        if (!this.opts.runtimeCapsFrames && data.length > maxMessage) {
          return session.closeFromRelay(CloseCode.FRAME_TOO_LARGE);
        }
        peer.inbound(data, isBinary);
      },
      error: () => {
        if (done) return;
        if (isDaemon) session.onClose();
        else session.onClose(1006, "");
      },
      closed: (code, reason) => {
        if (done) return;
        done = true;
        this.sessions.delete(session);
        if (!isDaemon) this.clientSessions--;
        peer.closed(code);
        if (isDaemon) session.onClose();
        else session.onClose(code, reason);
        release();
        this.updateClock();
      },
    };
  }

  /**
   * Run the keepalive/idle clock only while something needs it: with pings, any session; without (workerd), only
   * clients (the idle timeout) — a registered daemon alone needs no timer, so its Durable Object can hibernate.
   */
  private updateClock(): void {
    if (this.stopped) return;
    const needed = this.opts.pings ? this.sessions.size > 0 : this.clientSessions > 0;
    if (needed) this.liveness.start();
    else this.liveness.stop();
  }
}
