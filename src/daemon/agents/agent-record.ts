/**
 * Persistence of agent metadata: `<dir>/<id>/meta.json`, rewritten atomically on every state change (home.ts
 * writeFileAtomic: temp + fsync + rename, mode 0600), so a crash leaves either the previous or the new record.
 * Output is not here (see log-file.ts); the environment is never persisted because it often carries tokens.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { toBase32 } from "../../protocol/encoding.js";
import { writeFileAtomic } from "../home.js";
import { procStartTime } from "./agent-process.js";
import type { LogSummary } from "./log-file.js";
import type { HostProcess } from "./host/spawn-host.js";
import type { AgentInfo, AgentState } from "./types.js";

export const AGENT_ID_RE = /^[a-z2-7]{8}$/;
const STATES: readonly AgentState[] = ["running", "exited", "killed", "failed", "lost"];

export interface AgentRecord {
  v: 1;
  info: AgentInfo;
  /** ownerToken() of the manager that last wrote the record (diagnostics: which daemon ran or re-adopted it). */
  owner: string;
  /** procStartTime() of the agent's pid at spawn, to recognise the very same process after a daemon crash. */
  procStart: string | null;
  /** Set when the log is sealed; lets the next open() trust the log without scanning it. */
  log: LogSummary | null;
  /**
   * The agent's host process (host/agent-host.ts) and its socket: how a restarted daemon re-adopts the agent.
   * Absent in records from before agent hosts (their agents died with the daemon that ran them).
   */
  host?: HostProcess | null;
}

/**
 * This process's identity as "<pid>:<kernel start time>". The start time matters in containers, where a restarted
 * daemon often gets the same small pid as the one that crashed.
 */
const SELF = `${process.pid}:${procStartTime(process.pid) ?? "?"}`;

/** Owner token for records written by one manager instance. */
export function ownerToken(): string {
  return `${SELF}/${randomBytes(4).toString("hex")}`;
}

/** 8 base32 characters = 40 random bits: short enough to type, collisions are also checked by the caller. */
export function newAgentId(): string {
  return toBase32(randomBytes(5));
}

export function agentDir(root: string, id: string): string {
  return join(root, id);
}
export function logPath(root: string, id: string): string {
  return join(root, id, "output.log");
}
function metaPath(root: string, id: string): string {
  return join(root, id, "meta.json");
}

export async function writeRecord(root: string, rec: AgentRecord): Promise<void> {
  await writeFileAtomic(metaPath(root, rec.info.id), `${JSON.stringify(rec, null, 2)}\n`, 0o600);
}

/** Directory names under root that look like agent ids. */
export async function listRecordIds(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && AGENT_ID_RE.test(e.name)).map((e) => e.name);
}

/** Read and validate one record; throws an Error saying what is wrong (the caller logs and skips it). */
export async function readRecord(root: string, id: string): Promise<AgentRecord> {
  const raw: unknown = JSON.parse(await readFile(metaPath(root, id), "utf8"));
  const r = raw as Partial<AgentRecord> | null;
  if (!r || typeof r !== "object" || r.v !== 1) throw new Error("not a version 1 agent record");
  const i = r.info as Partial<AgentInfo> | undefined;
  const problems: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  check(!!i && typeof i === "object", "info");
  if (i && typeof i === "object") {
    check(i.id === id, "info.id");
    check(typeof i.name === "string", "info.name");
    check(Array.isArray(i.argv) && i.argv.every((a) => typeof a === "string"), "info.argv");
    check(typeof i.cwd === "string", "info.cwd");
    check(i.pid === null || Number.isInteger(i.pid), "info.pid");
    check(STATES.includes(i.state as AgentState), "info.state");
    check(i.exitCode === null || Number.isInteger(i.exitCode), "info.exitCode");
    check(i.signal === null || typeof i.signal === "string", "info.signal");
    check(typeof i.startedAt === "string", "info.startedAt");
    check(i.endedAt === null || typeof i.endedAt === "string", "info.endedAt");
    check(Number.isInteger(i.nextSeq) && i.nextSeq! >= 1, "info.nextSeq");
    check(Number.isInteger(i.bytes) && i.bytes! >= 0, "info.bytes");
    // Records from before terminal agents have no tty fields: they were pipe agents.
    if (i.tty === undefined) Object.assign(i, { tty: false, cols: null, rows: null });
    check(typeof i.tty === "boolean", "info.tty");
    const size = (n: unknown): boolean => (i.tty ? Number.isInteger(n) && (n as number) >= 1 : n === null);
    check(size(i.cols), "info.cols");
    check(size(i.rows), "info.rows");
  }
  check(typeof r.owner === "string", "owner");
  check(r.procStart === null || typeof r.procStart === "string", "procStart");
  const h = r.host;
  check(
    h === undefined ||
      h === null ||
      (!!h &&
        Number.isInteger(h.pid) &&
        (h.procStart === null || typeof h.procStart === "string") &&
        typeof h.socket === "string"),
    "host",
  );
  const l = r.log;
  check(l === null || (!!l && [l.size, l.nextSeq, l.dataBytes].every((n) => Number.isInteger(n) && n >= 0)), "log");
  if (problems.length > 0) throw new Error(`invalid fields: ${problems.join(", ")}`);
  return r as AgentRecord;
}
