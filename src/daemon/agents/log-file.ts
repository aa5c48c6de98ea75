/**
 * The per-agent output log: `<dir>/<id>/output.log`, append-only, the authoritative record of everything an agent
 * wrote. Readers (replay, resume after disconnect, slow subscribers) always pull from here.
 *
 * Format: a sequence of self-delimiting records, no file header.
 *
 *     [seq: u64 BE][fd: u8, 1 = stdout, 2 = stderr][length: u32 BE][length bytes of output]
 *
 * The first record has seq 1 and each next record has seq + 1, so a record's seq is also its ordinal: that is what
 * makes a crash-torn tail detectable (a short header, a length past EOF, or a seq/fd that breaks the pattern) and
 * lets the sparse index below be a plain array. There is no checksum: this protects against a process dying
 * mid-append, not against media corruption.
 *
 * Appends are synchronous (one writeSync per record, at most MAX_RECORD_DATA + 13 bytes). That keeps the in-memory
 * `nextSeq`/`size` always equal to what is on disk, so a reader that snapshots them never sees a half-written
 * record, and it naturally applies backpressure to a child that writes faster than the disk.
 *
 * Three roles: the WRITER (create(): the agent's host process, the only one that appends), a FOLLOWER (follow():
 * the daemon's view of a running agent's log, advanced by applyRecord() for records the writer has already put on
 * disk, see log-mirror.ts), and SEALED (load(), or after seal(): nothing appends any more).
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import type { OutputChunk, Logger, ReadLogsResult } from "./types.js";

const HEADER = 13;
/** One index entry per INDEX_EVERY records: seq 1, 1 + N, 1 + 2N, ... so entry i describes seq i * N + 1. */
const INDEX_EVERY = 64;
/** Larger writes are split; also the sanity bound used to recognise garbage lengths when scanning. */
export const MAX_RECORD_DATA = 1 << 20;
const READ_BLOCK = 256 * 1024;
const SCAN_BLOCK = 1 << 20;
export const DEFAULT_READ_BYTES = 1 << 20;
/** Size of a record's header in the file (seq u64, fd u8, length u32). */
export const RECORD_HEADER = HEADER;

/** What meta.json remembers about a log at the time it was sealed; lets open() skip scanning untouched logs. */
export interface LogSummary {
  size: number;
  nextSeq: number;
  dataBytes: number;
}

export class LogFile {
  private _nextSeq = 1;
  private _size = 0;
  private _dataBytes = 0;
  /** File offset of seq i * INDEX_EVERY + 1, for i = 0, 1, ... */
  private offsets: number[] = [];
  private indexed = true;
  private scanning: Promise<void> | null = null;
  /** Writer fd, open only while the agent runs. */
  private fd: number | null = null;
  private _sealed = false;
  private writeFailed = false;
  private readonly appendListeners = new Set<(chunk: OutputChunk) => void>();
  private readonly sealListeners = new Set<() => void>();

  private constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** A new, empty log open for appending. Fails if the file exists (ids are never reused). */
  static create(path: string, log: Logger): LogFile {
    const lf = new LogFile(path, log);
    lf.fd = openSync(path, "ax", 0o600);
    return lf;
  }

  /**
   * The daemon's view of a log another process (the agent's host) is writing: the complete records on disk now,
   * advanced later by applyRecord(). A torn tail is not cut (the writer may be in the middle of it).
   */
  static async follow(path: string, log: Logger): Promise<LogFile> {
    const lf = new LogFile(path, log);
    try {
      await lf.scan(false);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return lf;
  }

  /**
   * A log left by an earlier run (sealed: nothing appends to it again). When `trusted` matches the file size the
   * index is built lazily on first read; otherwise (daemon crash, no summary) it is scanned and repaired now.
   */
  static async load(path: string, trusted: LogSummary | null, log: Logger): Promise<LogFile> {
    const lf = new LogFile(path, log);
    lf._sealed = true;
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (size === 0) return lf;
    if (trusted && trusted.size === size) {
      lf._size = trusted.size;
      lf._nextSeq = trusted.nextSeq;
      lf._dataBytes = trusted.dataBytes;
      lf.indexed = false;
    } else {
      await lf.scan(true);
    }
    return lf;
  }

  get nextSeq(): number {
    return this._nextSeq;
  }
  get dataBytes(): number {
    return this._dataBytes;
  }
  get sealed(): boolean {
    return this._sealed;
  }
  /** Bytes of complete records known to this object (for a follower: where the next record starts on disk). */
  get size(): number {
    return this._size;
  }
  summary(): LogSummary {
    return { size: this._size, nextSeq: this._nextSeq, dataBytes: this._dataBytes };
  }

  /** Append output; each record is on disk before listeners hear of it. Never throws: a failing disk is logged. */
  append(fd: 1 | 2, data: Uint8Array): void {
    for (let off = 0; off < data.length; off += MAX_RECORD_DATA) {
      if (this.fd === null) return;
      const part = data.subarray(off, Math.min(data.length, off + MAX_RECORD_DATA));
      const seq = this._nextSeq;
      const rec = Buffer.allocUnsafe(HEADER + part.length);
      rec.writeBigUInt64BE(BigInt(seq), 0);
      rec[8] = fd;
      rec.writeUInt32BE(part.length, 9);
      rec.set(part, HEADER);
      if (!this.writeRecord(rec)) return;
      this.added({ seq, fd, data: part });
    }
  }

  /**
   * Follower: account for a record the writer already put on disk (seq must be nextSeq) and hand it to listeners,
   * exactly as if it had been appended here.
   */
  applyRecord(chunk: OutputChunk): void {
    if (this._sealed || this.fd !== null) throw new Error("applyRecord() is for a following log");
    if (chunk.seq !== this._nextSeq) throw new Error(`record ${chunk.seq} applied where ${this._nextSeq} was expected`);
    this.added(chunk);
  }

  private added(chunk: OutputChunk): void {
    if ((chunk.seq - 1) % INDEX_EVERY === 0) this.offsets.push(this._size);
    this._size += HEADER + chunk.data.length;
    this._dataBytes += chunk.data.length;
    this._nextSeq = chunk.seq + 1;
    for (const l of this.appendListeners) {
      try {
        l(chunk);
      } catch (err) {
        this.log("error", `agent log listener failed: ${(err as Error).message}`);
      }
    }
  }

  private writeRecord(rec: Buffer): boolean {
    const fd = this.fd!;
    try {
      for (let done = 0; done < rec.length; ) done += writeSync(fd, rec, done);
      return true;
    } catch (err) {
      // Drop this chunk but keep the file well-formed: cut any partial record so later appends stay parseable.
      if (!this.writeFailed)
        this.log("error", `cannot append to ${this.path}: ${(err as Error).message}; output is being dropped`);
      this.writeFailed = true;
      try {
        ftruncateSync(fd, this._size);
      } catch {
        this.closeWriter(); // the file can no longer be trusted to be appendable; stop writing to it
      }
      return false;
    }
  }

  /** The agent ended: no more appends. Flushes to disk, then tells listeners (subscriptions deliver their end). */
  seal(): void {
    if (this._sealed) return;
    this.closeWriter();
    this._sealed = true;
    for (const l of this.sealListeners) {
      try {
        l();
      } catch (err) {
        this.log("error", `agent log seal listener failed: ${(err as Error).message}`);
      }
    }
    this.sealListeners.clear();
    this.appendListeners.clear();
  }

  private closeWriter(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } catch {
      /* best effort: closing matters more */
    }
    closeSync(fd);
  }

  onAppend(listener: (chunk: OutputChunk) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }
  onSeal(listener: () => void): () => void {
    this.sealListeners.add(listener);
    return () => this.sealListeners.delete(listener);
  }

  /**
   * Chunks with seq >= since, in order, up to about maxBytes of payload (at least one chunk when any exists).
   * Only records complete at call time are read.
   */
  async read(since: number, maxBytes = DEFAULT_READ_BYTES): Promise<ReadLogsResult> {
    await this.ensureIndexed();
    const end = this._size;
    const endSeq = this._nextSeq;
    since = Math.max(1, since);
    if (since >= endSeq) return { chunks: [], nextSeq: since, more: false };
    const slot = Math.min(Math.floor((since - 1) / INDEX_EVERY), this.offsets.length - 1);
    let pos = this.offsets[slot]!;
    let expect = slot * INDEX_EVERY + 1;
    const chunks: OutputChunk[] = [];
    let total = 0;
    const fh = await open(this.path, "r");
    try {
      let buf: Buffer = Buffer.alloc(0);
      let bufStart = pos;
      while (pos < end) {
        if (pos + HEADER > bufStart + buf.length) {
          buf = await readAt(fh, pos, Math.min(end - pos, READ_BLOCK));
          bufStart = pos;
        }
        let o = pos - bufStart;
        const seq = Number(buf.readBigUInt64BE(o));
        const fd = buf[o + 8];
        const len = buf.readUInt32BE(o + 9);
        if (seq !== expect || (fd !== 1 && fd !== 2) || pos + HEADER + len > end) {
          throw new Error(`agent log ${this.path} is corrupt at offset ${pos} (expected seq ${expect})`);
        }
        if (seq >= since) {
          if (chunks.length > 0 && total + len > maxBytes) break;
          if (pos + HEADER + len > bufStart + buf.length) {
            buf = await readAt(fh, pos, Math.min(end - pos, Math.max(READ_BLOCK, HEADER + len)));
            bufStart = pos;
            o = 0;
          }
          // Copy out of the shared block so a retained chunk does not pin the whole block.
          chunks.push({ seq, fd, data: new Uint8Array(buf.subarray(o + HEADER, o + HEADER + len)) });
          total += len;
        }
        pos += HEADER + len;
        expect++;
      }
    } finally {
      await fh.close();
    }
    const next = chunks.length > 0 ? chunks[chunks.length - 1]!.seq + 1 : since;
    return { chunks, nextSeq: next, more: next < endSeq };
  }

  private async ensureIndexed(): Promise<void> {
    if (this.indexed) return;
    this.scanning ??= this.scan(true);
    await this.scanning;
  }

  /**
   * Rebuild the index from the file. With `repair` (sealed logs only: no writer) a torn or garbage tail is cut;
   * without it (a follower) the scan just stops before an incomplete record.
   */
  private async scan(repair: boolean): Promise<void> {
    const fh = await open(this.path, repair ? "r+" : "r");
    try {
      const fileSize = (await fh.stat()).size;
      const offsets: number[] = [];
      const buf = Buffer.allocUnsafe(SCAN_BLOCK);
      let bufStart = 0;
      let bufLen = 0;
      let pos = 0;
      let seq = 1;
      let dataBytes = 0;
      while (fileSize - pos >= HEADER) {
        if (pos + HEADER > bufStart + bufLen) {
          bufStart = pos;
          bufLen = (await fh.read(buf, 0, Math.min(SCAN_BLOCK, fileSize - pos), pos)).bytesRead;
          if (bufLen < HEADER) break;
        }
        const o = pos - bufStart;
        const recSeq = Number(buf.readBigUInt64BE(o));
        const fd = buf[o + 8];
        const len = buf.readUInt32BE(o + 9);
        if (recSeq !== seq || (fd !== 1 && fd !== 2) || len > MAX_RECORD_DATA || pos + HEADER + len > fileSize) break;
        if ((seq - 1) % INDEX_EVERY === 0) offsets.push(pos);
        pos += HEADER + len;
        dataBytes += len;
        seq++;
      }
      if (pos < fileSize && repair) {
        this.log("warn", `agent log ${this.path}: dropped a torn tail of ${fileSize - pos} bytes after seq ${seq - 1}`);
        await fh.truncate(pos);
        await fh.sync();
      }
      this.offsets = offsets;
      this._size = pos;
      this._nextSeq = seq;
      this._dataBytes = dataBytes;
      this.indexed = true;
    } finally {
      await fh.close();
    }
  }
}

/** Read `length` bytes at `pos` (fewer at end of file): one positional read may return less than asked. */
export async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}
