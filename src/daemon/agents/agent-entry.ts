/**
 * One agent as the manager holds it: its info, its log view, and (while it runs) the connection to its host.
 * Persistence of the entry (meta.json) is serialised per agent so writes never overtake each other.
 */
import { writeRecord, type AgentRecord } from "./agent-record.js";
import type { HostClient } from "./host/host-client.js";
import type { HostProcess } from "./host/spawn-host.js";
import type { LogFile } from "./log-file.js";
import type { AgentInfo, Logger, ScreenSnapshot } from "./types.js";

export interface Entry {
  info: AgentInfo;
  log: LogFile;
  owner: string;
  procStart: string | null;
  host: HostProcess | null;
  proc: HostClient | null;
  /** A terminal agent's final screen, once it ended (read from screen.json on first use). */
  finalScreen: ScreenSnapshot | null;
  stopReason: string | null;
  /** Resolves once the agent has ended and its final record is persisted. */
  done: Promise<void>;
  /** Tail of this agent's meta.json write chain. */
  writing: Promise<void>;
}

export function newEntry(rec: AgentRecord, log: LogFile): Entry {
  return {
    info: rec.info,
    log,
    owner: rec.owner,
    procStart: rec.procStart,
    host: rec.host ?? null,
    proc: null,
    finalScreen: null,
    stopReason: null,
    done: Promise.resolve(),
    writing: Promise.resolve(),
  };
}

/** A copy of the entry's info with the log's live counters. */
export function infoOf(e: Entry): AgentInfo {
  return { ...e.info, argv: [...e.info.argv], nextSeq: e.log.nextSeq, bytes: e.log.dataBytes };
}

/** Queue a meta.json rewrite with the state current when it runs. Failures are logged, never thrown. */
export function persistEntry(root: string, e: Entry, log: Logger): Promise<void> {
  e.writing = e.writing.then(async () => {
    const info = infoOf(e);
    const rec: AgentRecord = {
      v: 1,
      info,
      owner: e.owner,
      procStart: e.procStart,
      log: e.log.sealed ? e.log.summary() : null,
      host: e.host,
    };
    try {
      await writeRecord(root, rec);
    } catch (err) {
      log("error", `cannot save agent ${info.id}'s record: ${(err as Error).message}`);
    }
  });
  return e.writing;
}
