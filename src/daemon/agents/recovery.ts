/**
 * Loading the agents directory when a manager opens. Ended agents come back as they were. Agents recorded as
 * running are RE-ADOPTED: their host process (host/agent-host.ts) kept them running while no daemon was there, so
 * we connect to it again and continue the log from what is on disk (log-mirror.ts). The agent's pid is unchanged.
 *
 * A host that is alive but does not answer yet (a loaded machine) is adopted anyway and reconnected to in the
 * background. A running record whose host is gone is settled from what is left: the host's exit.json if it wrote one
 * (the agent really ended, e.g. while the daemon was down), else state `lost` with a reason — never "running". If
 * the program itself survived its host, it is terminated (same pid AND kernel start time, never a reused pid),
 * since nothing could record its output any more. Records from before agent hosts (no `host`) are lost the same
 * way: their pipes died with the daemon that ran them.
 */
import { sameProcessAlive, signalGroup } from "./agent-process.js";
import { agentDir, listRecordIds, logPath, readRecord, type AgentRecord } from "./agent-record.js";
import { readExit } from "./host/exit-file.js";
import { HostClient } from "./host/host-client.js";
import { LogFile } from "./log-file.js";
import { LogMirror } from "./log-mirror.js";
import type { Logger } from "./types.js";

export interface LoadedAgent {
  rec: AgentRecord;
  log: LogFile;
  /** Re-adopted: the agent runs and this is the connection to its host. */
  client: HostClient | null;
  mirror: LogMirror | null;
  /** The record was changed (a leftover was settled) and must be persisted. */
  settled: boolean;
}

export async function loadAgents(dir: string, killGraceMs: number, log: Logger): Promise<LoadedAgent[]> {
  const ids = await listRecordIds(dir);
  const loaded = await Promise.all(ids.map((id) => loadOne(dir, id, killGraceMs, log)));
  return loaded.filter((l): l is LoadedAgent => l !== null);
}

async function loadOne(dir: string, id: string, killGraceMs: number, log: Logger): Promise<LoadedAgent | null> {
  let rec: AgentRecord;
  try {
    rec = await readRecord(dir, id);
  } catch (err) {
    log("warn", `skipping agent ${id}: unreadable meta.json (${(err as Error).message})`);
    return null;
  }
  const running = rec.info.state === "running";
  try {
    if (!running)
      return {
        rec,
        log: await LogFile.load(logPath(dir, id), rec.log, log),
        client: null,
        mirror: null,
        settled: false,
      };
    if (rec.host) {
      const lf = await LogFile.follow(logPath(dir, id), log);
      const mirror = new LogMirror(lf, log);
      const opts = {
        id,
        dir: agentDir(dir, id),
        host: rec.host,
        agentPid: rec.info.pid,
        agentStart: rec.procStart,
        tty: rec.info.tty,
        mirror,
        log,
      };
      const client = await HostClient.adopt(opts);
      if (client) {
        log("info", `agent ${id} re-adopted (pid ${rec.info.pid}, host pid ${rec.host.pid})`);
        return { rec, log: lf, client, mirror, settled: false };
      }
    }
    // The log's writer is gone: scan (and repair) it, then settle the record.
    const lf = await LogFile.load(logPath(dir, id), null, log);
    await settle(dir, rec, killGraceMs, log);
    return { rec, log: lf, client: null, mirror: null, settled: true };
  } catch (err) {
    log("warn", `skipping agent ${id}: ${(err as Error).message}`);
    return null;
  }
}

async function settle(dir: string, rec: AgentRecord, killGraceMs: number, log: Logger): Promise<void> {
  const exit = rec.host ? await readExit(agentDir(dir, rec.info.id)) : null;
  if (exit) {
    Object.assign(rec.info, {
      state: exit.signal ? "killed" : "exited",
      exitCode: exit.code,
      signal: exit.signal,
      endedAt: exit.endedAt,
      ...(exit.reason ? { reason: exit.reason } : {}),
    });
    log("info", `agent ${rec.info.id} ended while the daemon was away (${exit.signal ?? `code ${exit.code}`})`);
    return;
  }
  const pid = rec.info.pid;
  const hostPid = rec.host?.pid;
  // The start-time check is what makes this safe: a pid alone may by now belong to an unrelated process.
  const survived = !!pid && !!rec.procStart && sameProcessAlive(pid, rec.procStart);
  if (survived) {
    log("warn", `agent ${rec.info.id}: pid ${pid} outlived its host; terminating its process group`);
    signalGroup(pid, "SIGTERM");
    setTimeout(() => signalGroup(pid, "SIGKILL"), killGraceMs).unref();
  }
  const reason = !rec.host
    ? "started by a daemon without agent hosts; it ended with that daemon"
    : !pid
      ? `the daemon stopped while starting it, and its host process (pid ${hostPid}) is gone`
      : survived
        ? `its host process (pid ${hostPid}) is gone; the program (pid ${pid}) was terminated because its output could no longer be recorded`
        : `its host process (pid ${hostPid}) and the program (pid ${pid}) are gone without recording an exit (killed, or the machine restarted)`;
  Object.assign(rec.info, { state: "lost", exitCode: null, signal: null, reason, endedAt: new Date().toISOString() });
}
