/**
 * Liveness for every relay socket: WebSocket pings on both legs (half-open TCP connections otherwise linger for
 * many minutes and hold a daemon's slot or a client's resources), plus the client idle timeout. One timer per
 * relay walks all sessions, instead of one timer per socket.
 *
 * Daemon sockets have no idle timeout: a daemon with no clients is idle by design, and pings prove it is there.
 *
 * The timers run between start() and stop(): the Node relay runs them for its whole life; the Worker relay only
 * while a Durable Object holds clients, because a pending timer keeps a Durable Object from hibernating, and a
 * runtime that cannot send pings (workerd) has only the idle timeout to run (`pings: false`).
 */
import { CloseCode } from "../close-codes.js";
import type { RelayContext, Session } from "./context.js";

/** After a keepalive close, wait this long for the close frame to go out before dropping the TCP connection. */
const TERMINATE_AFTER_MS = 1000;
/**
 * Pings are spread over the interval instead of going out in one burst: each ping is a socket write (~10 µs), so
 * pinging 11,000 sockets at once stalled all forwarding for over 100 ms every interval (bench/README.md, section 4).
 * Every PING_TICK_MS the next share of a snapshot of the sessions is pinged; a new pass starts once per interval,
 * so each session is still pinged once per interval.
 */
const PING_TICK_MS = 20;

type Timer = ReturnType<typeof setInterval>;

/** Node's timers keep the process alive unless unref'd; other runtimes have no such notion. */
function unref(timer: Timer): void {
  (timer as { unref?: () => void }).unref?.();
}

export class Liveness {
  private pingTimer: Timer | undefined;
  private idleTimer: Timer | undefined;
  private readonly ticks: number;
  private readonly tickMs: number;
  private pass: Session[] = [];
  private passIndex = 0;
  private passStartedAt = -Infinity;

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly ctx: RelayContext,
    private readonly pings = true,
  ) {
    this.ticks = Math.max(1, Math.floor(ctx.opts.pingIntervalMs / PING_TICK_MS));
    this.tickMs = ctx.opts.pingIntervalMs / this.ticks;
  }

  get running(): boolean {
    return this.pingTimer !== undefined || this.idleTimer !== undefined;
  }

  /** Start the timers (idempotent). */
  start(): void {
    if (this.pings && this.pingTimer === undefined) {
      this.pingTimer = setInterval(() => this.pingTick(), this.tickMs);
      unref(this.pingTimer);
    }
    const idle = this.ctx.opts.idleTimeoutMs;
    if (idle > 0 && this.idleTimer === undefined) {
      // Check often enough that a timeout fires within ~25% of its nominal value.
      this.idleTimer = setInterval(() => this.closeIdle(), Math.min(5000, Math.max(20, Math.floor(idle / 4))));
      unref(this.idleTimer);
    }
  }

  stop(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.idleTimer);
    this.pingTimer = undefined;
    this.idleTimer = undefined;
  }

  private pingTick(): void {
    if (this.passIndex >= this.pass.length) {
      const now = performance.now();
      if (now - this.passStartedAt < this.ctx.opts.pingIntervalMs - this.tickMs / 2) return;
      this.passStartedAt = now;
      this.pass = [...this.sessions];
      this.passIndex = 0;
    }
    const end = Math.min(this.pass.length, this.passIndex + Math.ceil(this.pass.length / this.ticks));
    for (; this.passIndex < end; this.passIndex++) {
      const session = this.pass[this.passIndex]!;
      if (!this.sessions.has(session) || session.peer.keepaliveTick()) continue;
      this.ctx.metrics.keepaliveTimeouts++;
      this.ctx.log("debug", `${session.peer.role} socket missed two pings; dropping it`);
      session.closeFromRelay(CloseCode.TIMEOUT, "keepalive timeout");
      // A half-open peer will never complete the close handshake.
      unref(setTimeout(() => session.peer.terminate(), TERMINATE_AFTER_MS));
    }
    if (this.passIndex >= this.pass.length) {
      this.pass = []; // do not keep closed sessions alive until the next pass
      this.passIndex = 0;
    }
  }

  private closeIdle(): void {
    const deadline = Date.now() - this.ctx.opts.idleTimeoutMs;
    for (const session of this.sessions) {
      if (session.peer.role === "client" && session.peer.lastActivity < deadline) {
        session.closeFromRelay(CloseCode.TIMEOUT, "idle timeout");
      }
    }
  }
}
