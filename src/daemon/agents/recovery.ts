/**
 * Loading the agents directory when a manager opens. Ended agents come back as they were. Agents a previous
 * daemon left marked "running" cannot be running for us (their pipes died with that daemon), so they are settled:
 * recorded as killed with reason "daemon-stopped", their log is scanned and a crash-torn tail cut off, and if the
 * process itself survived (same pid AND same kernel start time) its process group is terminated.
 */
import { procStartTime, signalGroup } from "./agent-process.js";
import { listRecordIds, logPath, ownedByThisProcess, readRecord, type AgentRecord } from "./agent-record.js";
import { LogFile } from "./log-file.js";
import type { Logger } from "./types.js";

export interface LoadedAgent {
  rec: AgentRecord;
  log: LogFile;
  /** The record was changed (a leftover was settled) and must be persisted. */
  settled: boolean;
}

export async function loadAgents(dir: string, killGraceMs: number, log: Logger): Promise<LoadedAgent[]> {
  const out: LoadedAgent[] = [];
  for (const id of await listRecordIds(dir)) {
    let rec: AgentRecord;
    try {
      rec = await readRecord(dir, id);
    } catch (err) {
      log("warn", `skipping agent ${id}: unreadable meta.json (${(err as Error).message})`);
      continue;
    }
    const leftover = rec.info.state === "running";
    if (leftover && ownedByThisProcess(rec.owner)) {
      log("warn", `skipping agent ${id}: another AgentManager in this process runs it (same directory opened twice?)`);
      continue;
    }
    try {
      // A leftover's summary is stale by definition: scan (and repair) its log now.
      const lf = await LogFile.load(logPath(dir, id), leftover ? null : rec.log, log);
      if (leftover) settle(rec, killGraceMs, log);
      out.push({ rec, log: lf, settled: leftover });
    } catch (err) {
      log("warn", `skipping agent ${id}: ${(err as Error).message}`);
    }
  }
  return out;
}

function settle(rec: AgentRecord, killGraceMs: number, log: Logger): void {
  const pid = rec.info.pid;
  // The start-time check is what makes this safe: a pid alone may by now belong to an unrelated process.
  if (pid && rec.procStart && procStartTime(pid) === rec.procStart) {
    log("warn", `agent ${rec.info.id}: pid ${pid} outlived the previous daemon; terminating its process group`);
    signalGroup(pid, "SIGTERM");
    setTimeout(() => signalGroup(pid, "SIGKILL"), killGraceMs).unref();
  }
  Object.assign(rec.info, { state: "killed", exitCode: null, signal: null, reason: "daemon-stopped", endedAt: new Date().toISOString() });
}
