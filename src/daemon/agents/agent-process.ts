/**
 * Spawning and stopping child process groups. Every child (agent or exec) is spawned detached, which makes it the
 * leader of a new session and process group (pgid = pid). Signals go to the whole group, so `sh -c` children and
 * other grandchildren die with the agent instead of surviving as unmanageable orphans. A side effect is that
 * children also survive a daemon crash; open() in the manager takes care of those (see procStartTime).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { describeInput } from "../../protocol/redact.js";
import { AgentError } from "./errors.js";

/** After the leader exits, how long to wait for grandchildren that inherited stdout/stderr to let go of them. */
const STDIO_DRAIN_MS = 500;

export interface SpawnSpec {
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
  shell?: boolean;
  stdin: "pipe" | "ignore";
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export class ChildGroup {
  /** Resolves when the leader has exited (output may still be arriving). */
  readonly exited: Promise<ExitStatus>;
  /** Resolves when the leader has exited and stdout/stderr are closed: all output has been delivered. */
  readonly done: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exited = new Promise((res) => {
      child.once("exit", (code, signal) => {
        this.exitStatus = { code, signal };
        res(this.exitStatus);
      });
    });
    this.done = new Promise((res) => {
      let drainTimer: NodeJS.Timeout | undefined;
      let closed = false;
      child.once("close", () => {
        closed = true;
        clearTimeout(drainTimer);
        res(this.exitStatus!);
      });
      void this.exited.then(() => {
        if (closed) return;
        // A background grandchild can hold our pipes open forever; stop reading from them after a short drain.
        drainTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          res(this.exitStatus!);
        }, STDIO_DRAIN_MS);
        drainTimer.unref();
      });
    });
  }

  /** Spawn, resolving once the OS has started the process. Failure is an AgentError("SPAWN_FAILED"). */
  static async spawn(spec: SpawnSpec): Promise<ChildGroup> {
    const [file, args] = spec.shell ? ["/bin/sh", ["-c", spec.argv.join(" ")]] : [spec.argv[0]!, spec.argv.slice(1)];
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env ? { ...process.env, ...spec.env } : process.env,
        stdio: [spec.stdin, "pipe", "pipe"],
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      throw spawnError(spec.argv[0]!, err);
    }
    await new Promise<void>((res, rej) => {
      const onError = (err: Error): void => {
        child.off("spawn", onSpawn);
        rej(spawnError(spec.argv[0]!, err));
      };
      const onSpawn = (): void => {
        child.off("error", onError);
        res();
      };
      child.once("error", onError);
      child.once("spawn", onSpawn);
    });
    // Later errors (e.g. a failed kill) must never become an unhandled 'error' event that crashes the daemon.
    child.on("error", () => undefined);
    child.stdin?.on("error", () => undefined);
    return new ChildGroup(child, child.pid!);
  }

  get hasExited(): boolean {
    return this.exitStatus !== null;
  }

  /** Signal the whole process group. False when nothing was left to signal. */
  signal(sig: NodeJS.Signals): boolean {
    return signalGroup(this.pid, sig);
  }

  /**
   * SIGTERM the group, SIGKILL it if the leader is still alive after graceMs; resolves when all output is in.
   * Members that outlive the leader (they ignored SIGTERM) get SIGKILL at the same deadline, without making the
   * caller wait for it.
   */
  async stop(graceMs: number): Promise<ExitStatus> {
    if (!this.hasExited) {
      const deadline = Date.now() + graceMs;
      this.signal("SIGTERM");
      const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
      if (groupAlive(this.pid)) {
        setTimeout(() => this.signal("SIGKILL"), Math.max(0, deadline - Date.now())).unref();
      }
    }
    return this.done;
  }
}

export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    try {
      process.kill(pgid, sig); // not a group leader after all (should not happen): at least the process itself
      return true;
    } catch {
      return false;
    }
  }
}

export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

/**
 * The kernel's start time of a process (Linux /proc, clock ticks since boot), or null where unavailable. Stored
 * with each agent so that after a daemon crash we only kill a leftover pid if it is still the same process, never
 * an unrelated one that reused the pid.
 */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces and parentheses); starttime is field 22 overall.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * True while `pid` is still the very process that had kernel start time `start` (never a reused pid) and has not
 * exited (a zombie waiting to be reaped counts as gone). Without a start time (non-Linux) only existence is checked.
 */
export function sameProcessAlive(pid: number | null, start: string | null): boolean {
  if (!pid) return false;
  if (start === null) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] === start && fields[0] !== "Z";
  } catch {
    return false;
  }
}

function spawnError(command: string, err: unknown): AgentError {
  const code = (err as NodeJS.ErrnoException).code;
  const what = describeInput(command);
  const hint =
    code === "ENOENT"
      ? "command not found; check the name, or the PATH of the daemon's environment (or pass shell: true)"
      : code === "EACCES"
        ? "permission denied; is the file executable?"
        : (err as Error).message;
  return new AgentError("SPAWN_FAILED", `cannot start "${what}": ${hint}${code ? ` (${code})` : ""}`, { cause: err });
}
