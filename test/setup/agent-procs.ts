/**
 * Agents outlive the daemon (each runs in its own host process), so stopping a test's daemon no longer ends them.
 * Every place that starts daemons or agent managers calls killAgentProcesses(dir) in its cleanup: it SIGKILLs each
 * agent program's process group and each host found under `dir` — from the agents' meta.json records (checked
 * against the recorded kernel start time, never a reused pid) and from the process table (a host's title is
 * `paseo-host <agentDir>`, which covers a host whose record was not written yet).
 */
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function kill(target: number): void {
  try {
    process.kill(target, "SIGKILL");
  } catch {
    /* gone */
  }
}

/** Agent directories under `dir`: `dir/agents/<id>` (a home), `dir/<id>` (an agents dir), one level deeper too. */
function agentDirs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === "meta.json")) out.push(d);
    if (depth === 0) return;
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name), depth - 1);
  };
  walk(dir, 3);
  return out;
}

/**
 * Pids of paseo-host processes whose agent directory is under `dir` — by title, or by argv for a host that has not
 * set its title yet (`node …/daemon/agents/host/main.js <agentDir>`). A host's child between fork and exec (the
 * agent's program being started) still carries the host's title for a moment: it is not a host, so processes whose
 * parent is one of the hosts found are left out.
 */
export function hostPidsUnder(dir: string): number[] {
  const found = matchingPids(dir);
  const set = new Set(found);
  return found.filter((pid) => !set.has(parentPid(pid)));
}

function parentPid(pid: number): number {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

function matchingPids(dir: string): number[] {
  const prefix = `paseo-host ${resolve(dir)}`;
  const starting = /[\\/]daemon[\\/]agents[\\/]host[\\/]main\.js$/;
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
      const args = cmd.split(" ");
      if (cmd.startsWith(prefix) || (args.length >= 3 && starting.test(args[1]!) && args[2]!.startsWith(resolve(dir))))
        pids.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

export function killAgentProcesses(dir: string): void {
  for (const d of agentDirs(dir)) {
    try {
      const rec = JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as {
        info?: { pid?: number };
        procStart?: string | null;
        host?: { pid: number; procStart: string | null } | null;
      };
      const pid = rec.info?.pid;
      if (pid && rec.procStart && startTime(pid) === rec.procStart) kill(-pid);
      const h = rec.host;
      if (h?.procStart && startTime(h.pid) === h.procStart) kill(h.pid);
    } catch {
      /* no readable record */
    }
  }
  // Hosts without a record yet (or whose record is unreadable): their program is in the host's child session.
  for (const pid of hostPidsUnder(dir)) {
    for (const child of childrenOf(pid)) kill(-child);
    kill(pid);
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
