/**
 * The screen of a terminal agent, kept in step with its output log: an @xterm/headless terminal that FOLLOWS the
 * log (a Subscription, like any reader), serialized on demand with @xterm/addon-serialize (VS Code restores its
 * persistent terminals the same way). This is what makes attaching cheap: snapshot (bounded by
 * cols × (rows + scrollback)) + the log after the snapshot's seq, never a replay of the whole history.
 *
 * Why a follower and not fed inline: the parser is slower than a PTY (here ~15 MB/s against 50+ MB/s), so feeding
 * it inline either queues unbounded data inside xterm (which drops data past 50 MB) or slows every read. As a
 * follower it pulls at its own pace: at most MAX_PARSING bytes are queued in xterm (the subscription pauses above
 * that and continues from disk), and `lagBytes` tells the PTY reader when to apply flow control (pty-runtime.ts).
 *
 * Exactness: each chunk's write callback advances `applied` (the first seq not yet parsed). A resize is recorded
 * at the log position where it happened (`nextSeq` then) and applied to xterm exactly between the chunk before and
 * the chunk at that position. snapshot() first lets the parser reach the log's end as of the call, then serializes
 * inside the callback of an empty write, when precisely the chunks before `applied` are parsed.
 */
import headless from "@xterm/headless";
import serialize from "@xterm/addon-serialize";
import { Subscription, type LogSource } from "./subscription.js";
import type { AgentInfo, OutputChunk, Logger, ScreenSnapshot } from "./types.js";

/** Lines of scrollback kept (and serialized) per terminal agent. */
export const SCREEN_SCROLLBACK = 1000;
/** Most output bytes handed to xterm and not yet parsed. */
const MAX_PARSING = 1 << 20;

export class ScreenState {
  private readonly term: InstanceType<typeof headless.Terminal>;
  private readonly addon: InstanceType<typeof serialize.SerializeAddon>;
  private readonly sub: Subscription;
  /** First seq not yet parsed. */
  private applied: number;
  private appliedBytes = 0;
  /** Bytes handed to xterm, not parsed yet. */
  private parsing = 0;
  private readonly resizes: { at: number; cols: number; rows: number }[] = [];
  private readonly waiters = new Set<() => void>();
  private disposed = false;
  /** The log ended and everything was fed, or it could not be read: nothing more will come. */
  private ended = false;
  /** Called whenever the parser made progress (the PTY reader uses it to lift flow control). */
  onProgress: (() => void) | null = null;

  /** Follow `log` from `fromSeq` (1 for a new agent). */
  constructor(
    cols: number,
    rows: number,
    private readonly log: LogSource & { readonly dataBytes: number },
    fromSeq: number,
    logger: Logger,
  ) {
    this.term = new headless.Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK, allowProposedApi: true });
    this.addon = new serialize.SerializeAddon();
    this.term.loadAddon(this.addon as never);
    this.applied = fromSeq;
    // lagBytes is exact when following from the log's end (a new agent); a rebuild from an older seq never asks.
    this.appliedBytes = log.dataBytes;
    this.sub = new Subscription(
      log,
      fromSeq,
      { onChunk: (c) => this.feed(c), onEnd: () => this.end(), onError: () => this.end() },
      () => ({}) as AgentInfo,
      logger,
    );
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }
  /** Output bytes in the log that the screen has not parsed yet. */
  get lagBytes(): number {
    return Math.max(0, this.log.dataBytes - this.appliedBytes);
  }

  /** The terminal was resized now: applies after every chunk logged so far, before any later one. */
  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.resizes.push({ at: this.log.nextSeq, cols, rows });
    this.applyResizes(this.sub.nextSeq);
  }

  /** The screen as of the log's end at the time of the call, and the first seq it does not reflect. */
  async snapshot(): Promise<ScreenSnapshot> {
    await this.reach(this.log.nextSeq);
    if (this.disposed) throw new Error("screen state was disposed");
    return new Promise((res) => {
      this.term.write("", () => {
        res({
          seq: this.applied,
          cols: this.term.cols,
          rows: this.term.rows,
          data: this.addon.serialize({ scrollback: SCREEN_SCROLLBACK }),
        });
      });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sub.unsubscribe();
    this.term.dispose();
    this.wake();
  }

  private feed(c: OutputChunk): void {
    this.applyResizes(c.seq);
    const len = c.data.length;
    this.parsing += len;
    this.term.write(c.data, () => {
      this.applied = c.seq + 1;
      this.appliedBytes += len;
      this.parsing -= len;
      if (this.parsing <= MAX_PARSING / 2) this.sub.resume();
      this.wake();
      this.onProgress?.();
    });
    if (this.parsing > MAX_PARSING) this.sub.pause();
  }

  /** Queue (in xterm's write order) every recorded resize that takes effect before chunk `seq`. */
  private applyResizes(seq: number): void {
    while (this.resizes.length > 0 && this.resizes[0]!.at <= seq) {
      const { cols, rows } = this.resizes.shift()!;
      this.term.write("", () => {
        if (!this.disposed) this.term.resize(cols, rows);
      });
    }
  }

  /** Resolves once every chunk before `seq` is parsed (or the log ended / the state was disposed). */
  private reach(seq: number): Promise<void> {
    return new Promise((res) => {
      const check = (): void => {
        if (this.applied >= seq || this.disposed || (this.ended && this.parsing === 0)) {
          this.waiters.delete(check);
          res();
        }
      };
      this.waiters.add(check);
      this.sub.resume();
      check();
    });
  }

  private end(): void {
    this.ended = true;
    this.term.write("", () => this.wake());
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
