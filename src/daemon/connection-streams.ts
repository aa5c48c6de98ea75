/**
 * Log subscriptions of one client connection. Chunks go out as STREAM messages; when the pipe stops being
 * writable every subscription is paused (the agent manager then keeps nothing in memory and resumes from disk),
 * so a slow client costs the daemon no unbounded buffer and loses nothing. A subscription that fails after its
 * response was sent ends with an "error" event — never with "end", which would claim the log was complete.
 */
import type { AgentInfo, AgentManager, SubscriptionHandle } from "./agents/index.js";
import { PaseoError } from "../protocol/errors.js";
import { ParamsError } from "../protocol/rpc-params.js";

export interface StreamSink {
  sendChunk(sub: number, seq: number, fd: number, data: Uint8Array): void;
  /** `agent` (how it ended) is given for followed subscriptions. */
  sendEnd(sub: number, nextSeq: number, agent?: AgentInfo): void;
  sendError(sub: number, error: { code: string; message: string }): void;
  readonly writable: boolean;
  onWritable(listener: () => void): void;
}

export const MAX_SUBSCRIPTIONS = 64;

export class ConnectionStreams {
  private readonly subs = new Map<number, SubscriptionHandle>();
  private paused = false;
  private closed = false;

  constructor(
    private readonly agents: AgentManager,
    private readonly sink: StreamSink,
  ) {}

  get count(): number {
    return this.subs.size;
  }

  /**
   * Validate everything that can be refused (so the refusal is the response itself), then the caller sends the
   * response and calls start(), so that no chunk precedes it.
   */
  prepare(sub: number, id: string, since: number): { nextSeq: number } {
    if (this.subs.has(sub)) throw new ParamsError(`subscription ${sub} is already open on this connection`);
    if (this.subs.size >= MAX_SUBSCRIPTIONS)
      throw new ParamsError(`at most ${MAX_SUBSCRIPTIONS} log subscriptions per connection`);
    const { nextSeq } = this.agents.get(id);
    if (since > nextSeq)
      throw new ParamsError(`"since" ${since} is past the end of the log (next chunk is ${nextSeq})`);
    return { nextSeq };
  }

  /**
   * Hold `sub` while an asynchronous request (terminal.attach) prepares its stream: no other request can claim it,
   * and an unsubscribe meanwhile is seen by isReserved() before start().
   */
  reserve(sub: number): void {
    this.subs.set(sub, { nextSeq: 0, unsubscribe: () => void this.subs.delete(sub), pause() {}, resume() {} });
  }

  isReserved(sub: number): boolean {
    return !this.closed && this.subs.has(sub);
  }

  start(sub: number, id: string, since: number, follow: boolean, untilSeq: number): void {
    if (this.closed) return;
    if (!follow) {
      void this.snapshot(sub, id, since, untilSeq);
      return;
    }
    let ended = false;
    const finish = () => {
      ended = true;
      this.subs.delete(sub);
    };
    try {
      const handle = this.agents.subscribe(
        id,
        since,
        (chunk) => {
          this.sink.sendChunk(sub, chunk.seq, chunk.fd, chunk.data);
          if (!this.sink.writable) this.pauseAll();
        },
        (info) => {
          finish();
          this.sink.sendEnd(sub, info.nextSeq, info);
        },
        (err) => {
          finish();
          this.sink.sendError(sub, errorBody(err));
        },
      );
      if (!ended) this.subs.set(sub, handle);
      if (this.paused) handle.pause();
    } catch (err) {
      this.sink.sendError(sub, errorBody(err));
    }
  }

  /** Non-follow: everything recorded before the request (seq < untilSeq), paced by the pipe, then "end". */
  private async snapshot(sub: number, id: string, since: number, untilSeq: number): Promise<void> {
    const marker: SubscriptionHandle = {
      nextSeq: since,
      unsubscribe: () => void this.subs.delete(sub),
      pause() {},
      resume() {},
    };
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
        if (batch.nextSeq <= next)
          throw new PaseoError("LOG_READ", `log of ${id} ended at chunk ${next}, before ${untilSeq}`);
        next = Math.min(batch.nextSeq, untilSeq);
      }
      if (this.subs.get(sub) === marker) this.sink.sendEnd(sub, next);
    } catch (err) {
      if (this.subs.get(sub) === marker) this.sink.sendError(sub, errorBody(err));
    } finally {
      if (this.subs.get(sub) === marker) this.subs.delete(sub);
    }
  }

  stop(sub: number): void {
    this.subs.get(sub)?.unsubscribe();
    this.subs.delete(sub);
  }

  closeAll(): void {
    this.closed = true;
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

function errorBody(err: unknown): { code: string; message: string } {
  return err instanceof PaseoError
    ? { code: err.code, message: err.message }
    : { code: "INTERNAL", message: "reading the log failed" };
}
