/**
 * An agent's running program as the manager sees it: one interface (AgentRuntime) for the two kinds of agents,
 * implemented here in-process — PipeRuntime (child with stdin/stdout/stderr pipes, ChildGroup) and PtyRuntime
 * (child under a PTY, PtySession + ScreenState). Both append the program's output to the agent's LogFile, and
 * `done` resolves only after the last byte is in the log.
 */
import { ChildGroup, type ExitStatus } from "./agent-process.js";
import { AgentError } from "./errors.js";
import type { LogFile } from "./log-file.js";
import { PtySession } from "./pty-session.js";
import { ScreenState } from "./screen-state.js";
import type { ScreenSnapshot } from "./types.js";

export interface AgentRuntime {
  readonly pid: number;
  readonly tty: boolean;
  readonly hasExited: boolean;
  /** Resolves with the exit status once every byte of output is in the log. */
  readonly done: Promise<ExitStatus>;
  /** Write to stdin (pipe) or the PTY (terminal); resolves once handed to the OS. */
  write(data: Uint8Array): Promise<void>;
  /** EOF on stdin (pipe agents); for a terminal this sends the EOF character (Ctrl-D). */
  closeInput(): void;
  resize(cols: number, rows: number): void;
  /** The terminal's size; null for pipe agents. */
  size(): { cols: number; rows: number } | null;
  screen(): Promise<ScreenSnapshot>;
  /** SIGTERM → graceMs → SIGKILL to the process group; resolves when done. */
  stop(graceMs: number): Promise<ExitStatus>;
}

export interface LocalSpawnSpec {
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
  shell: boolean;
  /** Present for terminal agents. */
  tty?: { cols: number; rows: number };
}

export async function spawnLocal(spec: LocalSpawnSpec, log: LogFile): Promise<AgentRuntime> {
  if (spec.tty) return PtyRuntime.spawn(spec, spec.tty, log);
  return new PipeRuntime(await ChildGroup.spawn({ argv: spec.argv, cwd: spec.cwd, env: spec.env, shell: spec.shell, stdin: "pipe" }), log);
}

export class PipeRuntime implements AgentRuntime {
  readonly tty = false;
  readonly pid: number;
  readonly done: Promise<ExitStatus>;

  constructor(
    private readonly proc: ChildGroup,
    log: LogFile,
  ) {
    this.pid = proc.pid;
    proc.child.stdout!.on("data", (c: Buffer) => log.append(1, c));
    proc.child.stderr!.on("data", (c: Buffer) => log.append(2, c));
    this.done = proc.done;
  }

  get hasExited(): boolean {
    return this.proc.hasExited;
  }

  write(data: Uint8Array): Promise<void> {
    const stdin = this.openStdin();
    return new Promise((res, rej) => {
      stdin.write(data, (err) => (err ? rej(new AgentError("NOT_RUNNING", `the agent no longer accepts input (${err.message})`, { cause: err })) : res()));
    });
  }

  closeInput(): void {
    this.openStdin().end();
  }

  size(): null {
    return null;
  }

  resize(): void {
    throw new AgentError("NOT_A_TERMINAL", "this agent runs with pipes, not a terminal; start it with tty: true (paseo run --tty) to resize it");
  }

  screen(): Promise<ScreenSnapshot> {
    return Promise.reject(new AgentError("NOT_A_TERMINAL", "this agent runs with pipes and has no screen; read its output with logs"));
  }

  stop(graceMs: number): Promise<ExitStatus> {
    return this.proc.stop(graceMs);
  }

  private openStdin(): NonNullable<ChildGroup["child"]["stdin"]> {
    const stdin = this.proc.child.stdin;
    if (this.proc.hasExited || !stdin || stdin.destroyed || stdin.writableEnded) {
      throw new AgentError("NOT_RUNNING", "the agent is not running or its input was closed");
    }
    return stdin;
  }
}

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
