/** Shared fixtures for the agent manager tests: temp dirs, managers and child pids that are always cleaned up. */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { procStartTime } from "../../../src/daemon/agents/agent-process.js";
import { AgentManager, type AgentManagerOptions } from "../../../src/daemon/agents/index.js";
import { killAgentProcesses } from "../../setup/agent-procs.js";

const dirs: string[] = [];
const managers: AgentManager[] = [];
/** pid -> its kernel start time, so cleanup never signals an unrelated process that reused the pid. */
const pids = new Map<number, string | null>();

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "paseo-agents-"));
  dirs.push(d);
  return d;
}

export async function newManager(opts: Partial<AgentManagerOptions> = {}): Promise<AgentManager> {
  const m = new AgentManager({ dir: opts.dir ?? join(await tempDir(), "agents"), stopGraceMs: 300, ...opts });
  managers.push(m);
  await m.open();
  return m;
}

/** Remember a pid (or process group) to SIGKILL after the test, whatever happened. */
export function trackPid(pid: number): void {
  pids.set(pid, procStartTime(pid));
}

export async function cleanup(): Promise<void> {
  await Promise.all(managers.splice(0).map((m) => m.close({ killAgents: true }).catch(() => undefined)));
  for (const [pid, start] of pids) {
    if (start === null || procStartTime(pid) !== start) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  pids.clear();
  // Agents outlive their manager (hosts): whatever a failed test left running under its temp dirs goes too.
  for (const d of dirs) killAgentProcesses(d);
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** argv running a Node script. */
export function node(script: string): string[] {
  return [process.execPath, "-e", script];
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True while the process exists and is not a zombie (containers may not reap orphans promptly). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return process.platform !== "linux";
  }
}

/** Every recorded chunk of an agent, via bounded readLogs batches. */
export async function readAll(m: AgentManager, id: string, maxBytes?: number) {
  const chunks: { seq: number; fd: 1 | 2; data: Uint8Array }[] = [];
  let since = 1;
  for (;;) {
    const r = await m.readLogs(id, since, maxBytes);
    chunks.push(...r.chunks);
    since = r.nextSeq;
    if (!r.more) return chunks;
  }
}

export function textOf(chunks: { fd: number; data: Uint8Array }[], fd?: number): string {
  return Buffer.concat(chunks.filter((c) => fd === undefined || c.fd === fd).map((c) => c.data)).toString("utf8");
}

export function expectContiguous(chunks: { seq: number }[], from = 1): void {
  chunks.forEach((c, i) => {
    if (c.seq !== from + i) throw new Error(`seq ${c.seq} at position ${i}, expected ${from + i}`);
  });
}
