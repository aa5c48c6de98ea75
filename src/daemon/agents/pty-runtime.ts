/**
 * Terminal agents' runtime in the host: a PtySession whose output goes to the log, and a ScreenState that follows
 * the log.
 *
 * Reads are coalesced: a PTY delivers output in ≤ 4 KiB reads, one per event-loop turn during a burst. The first
 * read after a quiet spell (BURST_MS since the last flush) is logged and forwarded at once, inside the read's
 * callback: that read is a keystroke's echo or the start of a burst, and an extra event-loop hop (setImmediate)
 * there was measurable in the keystroke → echo path. Output within BURST_MS of the previous flush is gathered for
 * up to BURST_MS (or FLUSH_BYTES) into one record, so a burst costs a fraction of the records, syscalls, socket
 * frames and daemon work.
 *
 * Flow control: when the screen's parser lags the log by more than LAG_PAUSE bytes, reading pauses (the program
 * blocks on a full PTY, as under any terminal emulator that cannot keep up) and resumes below LAG_RESUME. That
 * bounds the host's memory and the time an attach waits for an up-to-date screen.
 */
import type { ExitStatus } from "./agent-process.js";
import type { LogFile } from "./log-file.js";
import type { AgentRuntime, LocalSpawnSpec } from "./local-runtime.js";
import { PtySession } from "./pty-session.js";
import { ScreenState } from "./screen-state.js";
import type { Logger, ScreenSnapshot } from "./types.js";

const FLUSH_BYTES = 256 * 1024;
const BURST_MS = 2;
const LAG_PAUSE = 4 << 20;
const LAG_RESUME = 1 << 20;

export class PtyRuntime implements AgentRuntime {
  readonly tty = true;
  readonly pid: number;
  readonly done: Promise<ExitStatus>;

  private constructor(
    private readonly session: PtySession,
    readonly screenState: ScreenState,
    flush: () => void,
  ) {
    this.pid = session.pid;
    // The last coalesced output is in the log before the exit is reported.
    this.done = session.done.then((s) => (flush(), s));
  }

  static spawn(
    spec: LocalSpawnSpec,
    size: { cols: number; rows: number },
    log: LogFile,
    logger: Logger = () => undefined,
  ): PtyRuntime {
    const screen = new ScreenState(size.cols, size.rows, log, log.nextSeq, logger);
    // TERM defaults to xterm-256color; a caller's env may override it.
    const env = { ...(process.env as Record<string, string>), TERM: "xterm-256color", ...(spec.env ?? {}) };
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let scheduled: NodeJS.Timeout | null = null;
    let lastFlush = 0;
    let session: PtySession | undefined;
    const flush = (): void => {
      if (scheduled) clearTimeout(scheduled);
      scheduled = null;
      if (pendingBytes === 0) return;
      lastFlush = performance.now();
      const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      log.append(1, data);
      if (screen.lagBytes > LAG_PAUSE) session?.pause();
    };
    screen.onProgress = () => {
      if (screen.lagBytes < LAG_RESUME) session?.resume();
    };
    try {
      session = PtySession.spawn(
        { argv: spec.argv, cwd: spec.cwd, env, shell: spec.shell, cols: size.cols, rows: size.rows },
        (data) => {
          pending.push(data);
          pendingBytes += data.length;
          if (pendingBytes >= FLUSH_BYTES || (!scheduled && performance.now() - lastFlush >= BURST_MS)) flush();
          else scheduled ??= setTimeout(flush, BURST_MS);
        },
      );
    } catch (err) {
      screen.dispose();
      throw err;
    }
    return new PtyRuntime(session, screen, flush);
  }

  get hasExited(): boolean {
    return this.session.hasExited;
  }

  async write(data: Uint8Array): Promise<void> {
    this.session.write(data);
  }

  closeInput(): void {
    this.session.write(new Uint8Array([4]));
  }

  resize(cols: number, rows: number): void {
    this.session.resize(cols, rows);
    this.screenState.resize(cols, rows);
  }

  size(): { cols: number; rows: number } {
    return { cols: this.session.cols, rows: this.session.rows };
  }

  screen(): Promise<ScreenSnapshot> {
    return this.screenState.snapshot();
  }

  stop(graceMs: number): Promise<ExitStatus> {
    return this.session.stop(graceMs);
  }
}
