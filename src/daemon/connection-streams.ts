/**
 * Log subscriptions of one client connection. Chunks go out as STREAM messages; when the pipe stops being
 * writable every subscription is paused (the agent manager then keeps nothing in memory and resumes from disk),
 * so a slow client costs the daemon no unbounded buffer and loses nothing.
 */
import type { AgentManager, SubscriptionHandle } from "./agents/index.js";
import { ParamsError } from "../protocol/rpc-params.js";

export interface StreamSink {
  sendChunk(sub: number, seq: number, fd: number, data: Uint8Array): void;
  sendEnd(sub: number, nextSeq: number): void;
  readonly writable: boolean;
  onWritable(listener: () => void): void;
}

const MAX_SUBSCRIPTIONS = 64;

export class ConnectionStreams {
  private readonly subs = new Map<number, SubscriptionHandle>();
  private paused = false;

  constructor(
    private readonly agents: AgentManager,
    private readonly sink: StreamSink,
  ) {}

  get count(): number {
    return this.subs.size;
  }

  /** Validate and reserve; the caller sends the response, then calls start() so no chunk precedes it. */
  prepare(sub: number, id: string): { nextSeq: number } {
    if (this.subs.has(sub)) throw new ParamsError(`subscription ${sub} is already open on this connection`);
    if (this.subs.size >= MAX_SUBSCRIPTIONS) throw new ParamsError(`at most ${MAX_SUBSCRIPTIONS} log subscriptions per connection`);
    return { nextSeq: this.agents.get(id).nextSeq };
  }

  start(sub: number, id: string, since: number, follow: boolean, untilSeq: number): void {
    if (!follow) {
      void this.snapshot(sub, id, since, untilSeq);
      return;
    }
    let ended = false;
    const handle = this.agents.subscribe(
      id,
      since,
      (chunk) => {
        this.sink.sendChunk(sub, chunk.seq, chunk.fd, chunk.data);
        if (!this.sink.writable) this.pauseAll();
      },
      (info) => {
        ended = true;
        this.subs.delete(sub);
        this.sink.sendEnd(sub, info.nextSeq);
      },
    );
    if (!ended) this.subs.set(sub, handle);
    if (this.paused) handle.pause();
  }

  /** Non-follow: everything recorded before the request (seq < untilSeq), paced by the pipe, then "end". */
  private async snapshot(sub: number, id: string, since: number, untilSeq: number): Promise<void> {
    const marker: SubscriptionHandle = { nextSeq: since, unsubscribe: () => void this.subs.delete(sub), pause() {}, resume() {} };
    this.subs.set(sub, marker);
    let next = since;
    try {
      while (next < untilSeq && this.subs.get(sub) === marker) {
        if (!this.sink.writable) await new Promise<void>((resolve) => this.sink.onWritable(resolve));
        const batch = await this.agents.readLogs(id, next, 256 * 1024);
        for (const chunk of batch.chunks) {
          if (chunk.seq >= untilSeq) break;
          this.sink.sendChunk(sub, chunk.seq, chunk.fd, chunk.data);
        }
        if (batch.nextSeq <= next) break;
        next = Math.min(batch.nextSeq, untilSeq);
      }
    } finally {
      if (this.subs.get(sub) === marker) {
        this.subs.delete(sub);
        this.sink.sendEnd(sub, next);
      }
    }
  }

  stop(sub: number): void {
    this.subs.get(sub)?.unsubscribe();
    this.subs.delete(sub);
  }

  closeAll(): void {
    for (const h of this.subs.values()) h.unsubscribe();
    this.subs.clear();
  }

  private pauseAll(): void {
    if (this.paused) return;
    this.paused = true;
    for (const h of this.subs.values()) h.pause();
    this.sink.onWritable(() => {
      this.paused = false;
      for (const h of [...this.subs.values()]) h.resume();
    });
  }
}
