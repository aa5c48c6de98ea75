/**
 * An agent's running program as its host process sees it: one interface (AgentRuntime) for the two kinds of
 * agents — PipeRuntime here (child with stdin/stdout/stderr pipes, ChildGroup) and PtyRuntime in pty-runtime.ts
 * (child under a PTY, PtySession + ScreenState). Both append the program's output to the agent's LogFile, and
 * `done` resolves only after the last byte is in the log.
 */
import { ChildGroup, type ExitStatus } from "./agent-process.js";
import { AgentError } from "./errors.js";
import type { LogFile } from "./log-file.js";
import type { Logger, ScreenSnapshot } from "./types.js";

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

export async function spawnLocal(spec: LocalSpawnSpec, log: LogFile, logger?: Logger): Promise<AgentRuntime> {
  // Loaded on demand: node-pty and @xterm/headless cost a pipe agent's host startup time and memory for nothing.
  if (spec.tty) return (await import("./pty-runtime.js")).PtyRuntime.spawn(spec, spec.tty, log, logger);
  return new PipeRuntime(
    await ChildGroup.spawn({ argv: spec.argv, cwd: spec.cwd, env: spec.env, shell: spec.shell, stdin: "pipe" }),
    log,
  );
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
      stdin.write(data, (err) =>
        err
          ? rej(new AgentError("NOT_RUNNING", `the agent no longer accepts input (${err.message})`, { cause: err }))
          : res(),
      );
    });
  }

  closeInput(): void {
    this.openStdin().end();
  }

  size(): null {
    return null;
  }

  resize(): void {
    throw new AgentError(
      "NOT_A_TERMINAL",
      "this agent runs with pipes, not a terminal; start it with tty: true (paseo run --tty) to resize it",
    );
  }

  screen(): Promise<ScreenSnapshot> {
    return Promise.reject(
      new AgentError("NOT_A_TERMINAL", "this agent runs with pipes and has no screen; read its output with logs"),
    );
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
