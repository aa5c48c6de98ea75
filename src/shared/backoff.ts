/**
 * Exponential backoff with full jitter, shared by DaemonClient reconnects and the daemon's relay link.
 * It lives in shared/, not protocol/: it is local reconnect policy that docs/protocol.md does not specify, and
 * neither client/ nor daemon/ may import the other.
 * Jitter spreads reconnect storms after a relay restart; the reset after a stable period keeps a flapping link
 * from settling at the maximum delay forever.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** A connection that stayed up this long resets the delay to minMs. */
  stableMs: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private connectedAt: number | undefined;

  constructor(private readonly options: BackoffOptions) {}

  /** Delay before the next attempt: uniform in [cap/2, cap], cap = min(max, min·2^attempt). */
  next(): number {
    const cap = Math.min(this.options.maxMs, this.options.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const r = (this.options.random ?? Math.random)();
    return Math.round(cap / 2 + (r * cap) / 2);
  }

  connected(now = Date.now()): void {
    this.connectedAt = now;
  }

  /** Call on disconnect: resets the sequence if the connection had been stable. */
  disconnected(now = Date.now()): void {
    if (this.connectedAt !== undefined && now - this.connectedAt >= this.options.stableMs) this.attempt = 0;
    this.connectedAt = undefined;
  }
}
