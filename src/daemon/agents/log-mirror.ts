/**
 * Keeps the daemon's view of a running agent's log (a following LogFile) in step with the log the agent's host
 * writes, with no gap and no repeat, across daemon restarts and slow reads.
 *
 * Two sources, one cursor (the LogFile's nextSeq), like subscription.ts:
 *  - live: records the host sends over its socket right after writing them to disk;
 *  - disk: the file itself, read from the end of what the view knows.
 * A live record is applied only when it is exactly the next one and no disk pass is running; anything else (a
 * record from the future, or one arriving during a pass) is dropped and only remembered as "on disk up to seq N",
 * because the host writes before it sends: the disk always has it. A pass reads until the view has passed every
 * seq it was told about, then switches back to live in the same synchronous step. So a record is applied once,
 * in order, whatever the interleaving of reconnects, backpressure (the host's "sync") and exits.
 */
import { type FileHandle, open } from "node:fs/promises";
import { MAX_RECORD_DATA, RECORD_HEADER, readAt, type LogFile } from "./log-file.js";
import type { OutputChunk, Logger } from "./types.js";

const READ_BLOCK = 1 << 20;
/** A seq announced as written but not found on disk after this many empty passes: give up (and say so). */
const MAX_EMPTY_PASSES = 100;

export class LogMirror {
  private passing: Promise<void> | null = null;
  /** Highest seq known to be on disk (announced live, by a sync or by the hello/exit). */
  private onDiskUpTo = 0;

  constructor(
    readonly lf: LogFile,
    private readonly log: Logger,
  ) {}

  /** A live record from the host (already on disk). */
  offer(chunk: OutputChunk): void {
    if (chunk.seq < this.lf.nextSeq || this.lf.sealed) return;
    if (!this.passing && chunk.seq === this.lf.nextSeq) {
      this.lf.applyRecord(chunk);
      return;
    }
    this.onDiskUpTo = Math.max(this.onDiskUpTo, chunk.seq);
    void this.catchUp();
  }

  /** The host says everything before `nextSeq` is on disk; resolves once the view has it all. */
  reach(nextSeq: number): Promise<void> {
    this.onDiskUpTo = Math.max(this.onDiskUpTo, nextSeq - 1);
    return this.lf.nextSeq < nextSeq ? this.catchUp() : (this.passing ?? Promise.resolve());
  }

  catchUp(): Promise<void> {
    this.passing ??= this.pass();
    return this.passing;
  }

  private async pass(): Promise<void> {
    await null; // `passing` is set before any of this runs (see catchUp)
    try {
      let empty = 0;
      while (!this.lf.sealed && this.lf.nextSeq <= this.onDiskUpTo) {
        const before = this.lf.nextSeq;
        await this.readDisk();
        if (this.lf.nextSeq > before) continue;
        if (++empty > MAX_EMPTY_PASSES) {
          this.log(
            "error",
            `agent log ${this.lf.path}: seq ${this.onDiskUpTo} was announced but the file ends at ${before - 1}`,
          );
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch (err) {
      this.log("error", `agent log ${this.lf.path}: cannot follow the file: ${(err as Error).message}`);
    } finally {
      // Back to live in the same synchronous step that saw the view caught up (no record can slip in between).
      this.passing = null;
    }
  }

  /** The writer is gone: apply whatever complete records the file still has past the view's end. */
  async finalPass(): Promise<void> {
    await this.passing;
    try {
      await this.readDisk();
    } catch (err) {
      this.log("error", `agent log ${this.lf.path}: ${(err as Error).message}`);
    }
  }

  /** Apply the complete records on disk after the view's end. */
  private async readDisk(): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.lf.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    try {
      for (;;) {
        const pos = this.lf.size;
        const head = await readAt(fh, pos, READ_BLOCK);
        let o = 0;
        while (head.length - o >= RECORD_HEADER && !this.lf.sealed) {
          const seq = Number(head.readBigUInt64BE(o));
          const fd = head[o + 8];
          const len = head.readUInt32BE(o + 9);
          if (seq !== this.lf.nextSeq || (fd !== 1 && fd !== 2) || len > MAX_RECORD_DATA) {
            throw new Error(`unexpected record at offset ${pos + o} (seq ${seq}, expected ${this.lf.nextSeq})`);
          }
          let data: Uint8Array;
          if (head.length - o - RECORD_HEADER >= len) {
            data = new Uint8Array(head.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len));
          } else {
            const rest = await readAt(fh, pos + o + RECORD_HEADER, len);
            if (rest.length < len) return; // the writer is still writing it
            data = new Uint8Array(rest);
          }
          this.lf.applyRecord({ seq, fd, data });
          o += RECORD_HEADER + len;
          if (o >= head.length) break;
        }
        if (head.length < READ_BLOCK || o === 0) return;
      }
    } finally {
      await fh.close();
    }
  }
}
