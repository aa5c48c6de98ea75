/**
 * Per-connection bound on terminal input messages: a token bucket of TERMINAL_INPUT_BURST messages refilled at
 * TERMINAL_INPUT_RATE per second. A refused message is answered with INPUT_RATE_LIMITED (naming the limit) and never
 * reaches the PTY; the client retries later. Refused attempts cost a token too, so a flood cannot keep the bucket
 * topped up by retrying in a tight loop.
 */
import { TERMINAL_INPUT_BURST, TERMINAL_INPUT_MAX_BYTES, TERMINAL_INPUT_RATE } from "../protocol/rpc-params.js";
import { TerminalError } from "./terminal-errors.js";

export class InputLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate = TERMINAL_INPUT_RATE,
    private readonly burst = TERMINAL_INPUT_BURST,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Throws INPUT_TOO_LARGE / INPUT_RATE_LIMITED, or returns when `bytes` may be written. */
  admit(bytes: number): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) {
      throw new TerminalError(
        "INPUT_RATE_LIMITED",
        `terminal input is limited to ${this.rate} messages per second per connection (bursts of ${this.burst}); retry shortly`,
      );
    }
    this.tokens -= 1;
    if (bytes > TERMINAL_INPUT_MAX_BYTES) {
      throw new TerminalError(
        "INPUT_TOO_LARGE",
        `one terminal.input carries at most ${TERMINAL_INPUT_MAX_BYTES} bytes (got ${bytes}); split larger input`,
      );
    }
  }
}
