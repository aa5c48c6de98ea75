/**
 * FairScheduler: per-client inbound queues served round-robin, one message per client per turn, with a time
 * budget per turn so socket reads (and new clients' requests) get in between. Without it the daemon processes its
 * single relay socket strictly in arrival order and one flooding client delays everyone else by its whole
 * backlog. A client whose backlog passes the high-water mark is paused at its source (relay PAUSE upstream, or the
 * local socket stops being read) until it drains: TCP backpressure on that client alone, nothing dropped. The marks
 * (hysteresis) are the same OutboundFlow the relay and the daemon's sockets use, fed the backlog instead of a
 * socket's buffer.
 */
import { OutboundFlow } from "../relay/flow.js";
import { INBOUND_HIGH_WATER, INBOUND_LOW_WATER } from "./flow-limits.js";

export interface FairSchedulerOptions {
  /** Pause a client's source above this many queued bytes… */
  highWaterBytes?: number;
  /** …and resume it below this many. */
  lowWaterBytes?: number;
  /** Work per turn before yielding to I/O. */
  budgetMs?: number;
}

interface Queue {
  items: Uint8Array[];
  bytes: number;
  receive(data: Uint8Array): void;
  setPaused(paused: boolean): void;
  flow: OutboundFlow;
}

export class FairScheduler<K> {
  private readonly queues = new Map<K, Queue>();
  /** Keys with queued messages, in service order. */
  private ring: K[] = [];
  private scheduled = false;
  private readonly high: number;
  private readonly low: number;
  private readonly budgetMs: number;

  constructor(options: FairSchedulerOptions = {}) {
    this.high = options.highWaterBytes ?? INBOUND_HIGH_WATER;
    this.low = options.lowWaterBytes ?? INBOUND_LOW_WATER;
    this.budgetMs = options.budgetMs ?? 1;
  }

  /** Register a client: `receive` handles one message, `setPaused` stops/starts reading its source. */
  add(key: K, receive: (data: Uint8Array) => void, setPaused: (paused: boolean) => void): void {
    const flow = new OutboundFlow({ high: this.high, low: this.low, cap: Number.POSITIVE_INFINITY });
    this.queues.set(key, { items: [], bytes: 0, receive, setPaused, flow });
  }

  /** Drop a client and anything still queued for it (it is gone). */
  remove(key: K): void {
    if (!this.queues.delete(key)) return;
    this.ring = this.ring.filter((k) => k !== key);
  }

  push(key: K, data: Uint8Array): void {
    const q = this.queues.get(key);
    if (!q) return;
    if (this.ring.length === 0 && !this.scheduled) {
      // Nobody has a backlog and this is the first message of this event-loop turn: serve it now. Waiting for a
      // setImmediate only added an event-loop hop to every request (a keystroke's terminal.input most of all).
      // The turn is still scheduled first, so every further message of this turn (e.g. the rest of one socket
      // read, or one pushed from inside receive) queues and is served round-robin within the budget as before.
      this.schedule();
      q.receive(data);
      return;
    }
    if (q.items.length === 0) this.ring.push(key);
    q.items.push(data);
    q.bytes += data.length;
    if (q.flow.update(q.bytes) === "pause") q.setPaused(true);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    const deadline = performance.now() + this.budgetMs;
    while (this.ring.length > 0) {
      const key = this.ring.shift()!;
      const q = this.queues.get(key);
      if (!q) continue;
      const data = q.items.shift()!;
      q.bytes -= data.length;
      if (q.items.length > 0) this.ring.push(key);
      if (q.flow.update(q.bytes) === "resume") q.setPaused(false);
      q.receive(data);
      if (performance.now() >= deadline) break;
    }
    if (this.ring.length > 0) this.schedule();
  }
}
