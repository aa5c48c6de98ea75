/**
 * One-shot commands (`exec`): run, capture bounded output, return. Not recorded as an agent and nothing is
 * written to disk. Output past the cap is read and discarded (so the child never blocks on a full pipe) and
 * reported as `truncated`. On timeout, or when the manager closes, the whole process group is SIGKILLed.
 */
import { ChildGroup } from "./agent-process.js";
import { AgentError } from "./errors.js";
import { intOption, resolveCwd, validateArgv, validateEnv } from "./options.js";
import type { ExecOptions, ExecOutcome } from "./types.js";
import { EXEC_MAX_OUTPUT, EXEC_MAX_TIMEOUT_MS } from "../../protocol/rpc-params.js";

export const EXEC_DEFAULT_TIMEOUT_MS = 30_000;
export const EXEC_DEFAULT_MAX_OUTPUT = 1 << 20;

class Capped {
  private parts: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const keep = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.parts.push(keep);
    this.size += keep.length;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.parts, this.size));
  }
}

/** `signal` aborts the command (SIGKILL to its group); the result then reports the signal, not a timeout. */
export async function runExec(opts: ExecOptions, signal?: AbortSignal): Promise<ExecOutcome> {
  if (!opts || typeof opts !== "object") throw new AgentError("BAD_PARAMS", "exec() needs an options object with argv");
  const argv = validateArgv(opts.argv);
  const env = validateEnv(opts.env);
  const timeoutMs = intOption(opts.timeoutMs, "timeoutMs", EXEC_DEFAULT_TIMEOUT_MS, 1, EXEC_MAX_TIMEOUT_MS);
  const cap = intOption(opts.maxOutputBytes, "maxOutputBytes", EXEC_DEFAULT_MAX_OUTPUT, 0, EXEC_MAX_OUTPUT);
  const cwd = await resolveCwd(opts.cwd);
  const started = performance.now();
  const group = await ChildGroup.spawn({ argv, cwd, env, shell: opts.shell === true, stdin: "ignore" });
  const out = new Capped(cap);
  const err = new Capped(cap);
  group.child.stdout!.on("data", (c: Buffer) => out.push(c));
  group.child.stderr!.on("data", (c: Buffer) => err.push(c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    group.signal("SIGKILL");
  }, timeoutMs);
  const onAbort = (): void => void group.signal("SIGKILL");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    const status = await group.done;
    return {
      exitCode: status.code,
      signal: status.signal,
      stdout: out.bytes(),
      stderr: err.bytes(),
      truncated: out.truncated || err.truncated,
      timedOut,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
