/**
 * Follow an agent's output from any seq: replay from disk, then live, with no gap and no duplicate.
 *
 * The subscription has one cursor (the next seq to deliver) and two ways to advance it:
 *  - replay ("pump"): read batches from the log file starting at the cursor;
 *  - live: chunks handed over by LogFile.append() right after they hit the disk.
 * Live chunks are taken only while the subscription is live and not paused; any other time they are ignored,
 * because they are already on disk and the pump will read them. The switch from replay to live happens in the
 * same synchronous step that observes `cursor === log.nextSeq`; since appends are synchronous too, no chunk can
 * slip in between. Every delivery also checks `seq === cursor`, so a duplicate or a gap is impossible by
 * construction rather than by deduplicating buffers.
 *
 * Backpressure: pause() stops delivery and drops nothing but the live hand-over; nothing is buffered in memory,
 * and resume() continues from the cursor on disk. A slow consumer therefore costs disk reads, never memory.
 * Callbacks never run synchronously inside subscribe(), so the caller can register the handle first.
 */
import { AgentError } from "./errors.js";
import type { AgentInfo, OutputChunk, Logger, ReadLogsResult, SubscriptionHandle } from "./types.js";

export interface LogSource {
  readonly nextSeq: number;
  readonly sealed: boolean;
  read(since: number, maxBytes: number): Promise<ReadLogsResult>;
  onAppend(listener: (chunk: OutputChunk) => void): () => void;
  onSeal(listener: () => void): () => void;
}

export interface SubscriptionCallbacks {
  onChunk: (chunk: OutputChunk) => void;
  /** Once, after the agent ended and every chunk up to its last was delivered. */
  onEnd: (info: AgentInfo) => void;
  /** Once, if the log cannot be read (or a callback threw); the subscription is then over. Default: logged. */
  onError?: (err: Error) => void;
}

const REPLAY_BATCH_BYTES = 256 * 1024;

export class Subscription implements SubscriptionHandle {
  private cursor: number;
  private live = false;
  private paused = false;
  private pumping = false;
  private finished = false;
  private readonly detachers: (() => void)[];

  constructor(
    private readonly source: LogSource,
    since: number,
    private readonly cb: SubscriptionCallbacks,
    private readonly info: () => AgentInfo,
    private readonly log: Logger,
  ) {
    this.cursor = since;
    this.detachers = [source.onAppend((c) => this.onLive(c)), source.onSeal(() => this.onSealed())];
    queueMicrotask(() => void this.pump());
  }

  /** The next seq this subscription will deliver. */
  get nextSeq(): number {
    return this.cursor;
  }

  unsubscribe(): void {
    this.finish();
  }

  pause(): void {
    this.paused = true;
    this.live = false;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    void this.pump();
  }

  private onLive(chunk: OutputChunk): void {
    if (!this.live || this.paused || this.finished) return;
    if (chunk.seq < this.cursor) return;
    if (chunk.seq > this.cursor) {
      // Cannot happen with synchronous appends; if it ever does, the disk has the missing chunks.
      this.live = false;
      void this.pump();
      return;
    }
    this.deliver(chunk);
  }

  private onSealed(): void {
    if (this.live && !this.paused && this.cursor >= this.source.nextSeq) this.end();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.paused || this.finished) return;
    this.pumping = true;
    this.live = false;
    try {
      for (;;) {
        if (this.paused || this.finished) return;
        const end = this.source.nextSeq;
        if (this.cursor >= end) {
          if (this.cursor > end) {
            throw new AgentError(
              "BAD_PARAMS",
              `seq ${this.cursor} is past the end of this agent's log (next seq is ${end})`,
            );
          }
          if (this.source.sealed) this.end();
          else this.live = true;
          return;
        }
        const { chunks } = await this.source.read(this.cursor, REPLAY_BATCH_BYTES);
        for (const c of chunks) {
          if (this.paused || this.finished) break;
          if (c.seq !== this.cursor)
            throw new Error(`agent log returned seq ${c.seq} where ${this.cursor} was expected`);
          this.deliver(c);
        }
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  private deliver(chunk: OutputChunk): void {
    this.cursor = chunk.seq + 1;
    try {
      this.cb.onChunk(chunk);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private end(): void {
    if (this.finished) return;
    this.finish();
    try {
      this.cb.onEnd(this.info());
    } catch (err) {
      this.log("error", `agent log subscriber's onEnd failed: ${(err as Error).message}`);
    }
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.finish();
    if (!this.cb.onError) {
      this.log("error", `agent log subscription failed: ${err.message}`);
      return;
    }
    try {
      this.cb.onError(err);
    } catch (e) {
      this.log("error", `agent log subscriber's onError failed: ${(e as Error).message}`);
    }
  }

  private finish(): void {
    this.finished = true;
    this.live = false;
    for (const d of this.detachers.splice(0)) d();
  }
}
