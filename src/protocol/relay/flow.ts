/**
 * Backpressure bookkeeping for one outbound socket. The relay never drops a frame: when a socket's outbound buffer
 * grows, the *source* is paused (a PAUSE to the daemon for one client, or reading from a daemon's clients stops),
 * and resumed once the buffer has drained below the low-water mark. A peer that overruns the hard cap anyway is
 * closed with 4006 — loud, never silent.
 *
 * High and low marks differ (hysteresis) so a buffer hovering around one threshold does not flood the daemon with
 * PAUSE/RESUME pairs. The same marks serve the daemon (SendFlow below for its sockets, fair-scheduler.ts for inbound
 * backlogs): one "writable again" mechanism, driven by ws send callbacks, never by polling.
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

/**
 * "Writable again" for a daemon-side socket, on the same mechanism as the relay: `ws` calls a send's callback once
 * its bytes reached the kernel (the buffer shrank), so the mark is re-checked after every send and in every send
 * callback — no polling. `writable` is false from crossing the high mark until the buffer falls below the low mark;
 * `onWritable` listeners run on that edge.
 */
export class SendFlow {
  private readonly flow: OutboundFlow;
  private listeners: (() => void)[] = [];
  /** Bumped by reset(): callbacks of a previous socket's sends must not pause the next socket. */
  private generation = 0;

  constructor(marks: { high: number; low: number }) {
    this.flow = new OutboundFlow({ high: marks.high, low: marks.low, cap: Number.POSITIVE_INFINITY });
  }

  get writable(): boolean {
    return !this.flow.isPaused;
  }

  /** Send through `socket` and re-check the marks now and when the send completes. */
  send(
    socket: { readonly bufferedAmount: number; send(data: Uint8Array, cb: (err?: Error) => void): void },
    data: Uint8Array,
  ): void {
    const generation = this.generation;
    socket.send(data, () => {
      if (generation === this.generation) this.update(socket.bufferedAmount);
    });
    this.update(socket.bufferedAmount);
  }

  /** The socket is gone (a new one may follow): nothing is buffered any more, so waiters run now. */
  reset(): void {
    this.generation++;
    this.update(0);
  }

  private update(buffered: number): void {
    if (this.flow.update(buffered) === "resume") for (const l of this.listeners.splice(0)) l();
  }

  onWritable(listener: () => void): void {
    if (this.writable) listener();
    else this.listeners.push(listener);
  }

  /** Drop waiters (their socket closed and so did everything waiting on it). */
  cancel(): void {
    this.listeners = [];
  }
}
