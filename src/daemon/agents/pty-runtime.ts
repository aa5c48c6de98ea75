/** Terminal agents' runtime in the host: a PtySession whose output goes to the log and, in step, to a ScreenState. */
import type { ExitStatus } from "./agent-process.js";
import type { LogFile } from "./log-file.js";
import type { AgentRuntime, LocalSpawnSpec } from "./local-runtime.js";
import { PtySession } from "./pty-session.js";
import { ScreenState } from "./screen-state.js";
import type { ScreenSnapshot } from "./types.js";

export class PtyRuntime implements AgentRuntime {
  readonly tty = true;
  readonly pid: number;
  readonly done: Promise<ExitStatus>;

  private constructor(
    private readonly session: PtySession,
    readonly screenState: ScreenState,
  ) {
    this.pid = session.pid;
    this.done = session.done;
  }

  static spawn(spec: LocalSpawnSpec, size: { cols: number; rows: number }, log: LogFile): PtyRuntime {
    const screen = new ScreenState(size.cols, size.rows, log.nextSeq);
    // TERM defaults to xterm-256color; a caller's env may override it.
    const env = { ...(process.env as Record<string, string>), TERM: "xterm-256color", ...(spec.env ?? {}) };
    let session: PtySession;
    try {
      session = PtySession.spawn({ argv: spec.argv, cwd: spec.cwd, env, shell: spec.shell, cols: size.cols, rows: size.rows }, (data) => {
        const seq = log.nextSeq;
        log.append(1, data);
        // One PTY read is far below MAX_RECORD_DATA, so it is exactly one record: seq is its seq.
        if (log.nextSeq === seq + 1) screen.write(seq, data);
      });
    } catch (err) {
      screen.dispose();
      throw err;
    }
    return new PtyRuntime(session, screen);
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
