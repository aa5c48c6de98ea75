/**
 * Liveness for every relay socket: WebSocket pings on both legs (half-open TCP connections otherwise linger for
 * many minutes and hold a daemon's slot or a client's resources), plus the client idle timeout. One timer per
 * relay walks all sessions, instead of one timer per socket.
 *
 * Daemon sockets have no idle timeout: a daemon with no clients is idle by design, and pings prove it is there.
 */
import { CloseCode } from "../protocol/close-codes.js";
import type { RelayContext, Session } from "./context.js";

/** After a keepalive close, wait this long for the close frame to go out before dropping the TCP connection. */
const TERMINATE_AFTER_MS = 1000;
/**
 * Pings go out in slices about this far apart instead of one burst per interval: each ping is a socket write
 * (~10 µs), so pinging 11,000 sockets at once stalled all forwarding for over 100 ms every interval (bench/README.md,
 * section 4). Each session keeps a fixed slice, so it is still pinged exactly once per interval.
 */
const PING_SLICE_MS = 100;

export class Liveness {
  private readonly pingTimer: NodeJS.Timeout;
  private readonly idleTimer: NodeJS.Timeout | undefined;
  private readonly slices: number;
  private readonly sliceOf = new WeakMap<Session, number>();
  private nextSlice = 0;
  private currentSlice = 0;

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly ctx: RelayContext,
  ) {
    this.slices = Math.max(1, Math.floor(ctx.opts.pingIntervalMs / PING_SLICE_MS));
    this.pingTimer = setInterval(() => this.pingSlice(), ctx.opts.pingIntervalMs / this.slices);
    this.pingTimer.unref();
    const idle = ctx.opts.idleTimeoutMs;
    if (idle > 0) {
      // Check often enough that a timeout fires within ~25% of its nominal value.
      this.idleTimer = setInterval(() => this.closeIdle(), Math.min(5000, Math.max(20, Math.floor(idle / 4))));
      this.idleTimer.unref();
    }
  }

  stop(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.idleTimer);
  }

  private pingSlice(): void {
    const slice = this.currentSlice;
    this.currentSlice = (slice + 1) % this.slices;
    for (const session of this.sessions) {
      let own = this.sliceOf.get(session);
      if (own === undefined) {
        own = this.nextSlice;
        this.nextSlice = (own + 1) % this.slices;
        this.sliceOf.set(session, own);
      }
      if (own !== slice || session.peer.keepaliveTick()) continue;
      this.ctx.metrics.keepaliveTimeouts++;
      this.ctx.log("debug", `${session.peer.role} socket missed two pings; dropping it`);
      session.closeFromRelay(CloseCode.TIMEOUT, "keepalive timeout");
      // A half-open peer will never complete the close handshake.
      setTimeout(() => session.peer.terminate(), TERMINATE_AFTER_MS).unref();
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
