/**
 * Backpressure bookkeeping for one outbound socket. The relay never drops a frame: when a socket's outbound buffer
 * grows, the *source* is paused (a PAUSE to the daemon for one client, or reading from a daemon's clients stops),
 * and resumed once the buffer has drained below the low-water mark. A peer that overruns the hard cap anyway is
 * closed with 4006 — loud, never silent.
 *
 * High and low marks differ (hysteresis) so a buffer hovering around one threshold does not flood the daemon with
 * PAUSE/RESUME pairs.
 */
export interface Watermarks {
  high: number;
  low: number;
  cap: number;
}

export type FlowSignal = "pause" | "resume" | "overflow" | undefined;

export class OutboundFlow {
  private paused = false;

  constructor(private readonly marks: Watermarks) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Feed the current buffered byte count (after a send, or when a send completes) and get the edge, if any:
   * "overflow" above the cap, "pause" on crossing the high mark, "resume" on falling below the low mark.
   */
  update(buffered: number): FlowSignal {
    if (buffered > this.marks.cap) return "overflow";
    if (!this.paused && buffered > this.marks.high) {
      this.paused = true;
      return "pause";
    }
    if (this.paused && buffered < this.marks.low) {
      this.paused = false;
      return "resume";
    }
    return undefined;
  }
}

/**
 * The flow of one peer's outbound socket: evaluated when the socket drains and after every send (`check()`), with
 * each edge handed to `onSignal`. Both relay session kinds use it; only their reaction to a signal differs.
 */
export function watchFlow(
  peer: { readonly buffered: number; onDrain: (() => void) | undefined },
  opts: { highWaterBytes: number; lowWaterBytes: number; maxBufferedBytes: number },
  onSignal: (signal: FlowSignal) => void,
): { readonly isPaused: boolean; check(): void } {
  const flow = new OutboundFlow({ high: opts.highWaterBytes, low: opts.lowWaterBytes, cap: opts.maxBufferedBytes });
  const check = () => onSignal(flow.update(peer.buffered));
  peer.onDrain = check;
  return {
    get isPaused() {
      return flow.isPaused;
    },
    check,
  };
}
