/**
 * `<agentDir>/exit.json`: how an agent ended, written by its host (atomic, 0600) after the output was drained into
 * the log and the log was sealed, before the host tells the daemon. It is what lets a daemon that was away (stopped,
 * crashed, upgrading) learn the real exit status of an agent whose host has since gone.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../home.js";
import type { ExitRecord } from "./frames.js";

export function exitPath(agentDir: string): string {
  return join(agentDir, "exit.json");
}

export async function writeExit(agentDir: string, rec: ExitRecord): Promise<void> {
  await writeFileAtomic(exitPath(agentDir), `${JSON.stringify(rec)}\n`, 0o600);
}

/** The recorded exit, or null when there is none (or it is unreadable: then the agent is reported lost). */
export async function readExit(agentDir: string): Promise<ExitRecord | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(exitPath(agentDir), "utf8"));
  } catch {
    return null;
  }
  return isExitRecord(raw) ? raw : null;
}

export function isExitRecord(v: unknown): v is ExitRecord {
  const r = v as Partial<ExitRecord> | null;
  return (
    !!r &&
    typeof r === "object" &&
    (r.code === null || Number.isInteger(r.code)) &&
    (r.signal === null || typeof r.signal === "string") &&
    (r.reason === null || typeof r.reason === "string") &&
    typeof r.endedAt === "string" &&
    Number.isInteger(r.nextSeq) &&
    Number.isInteger(r.bytes)
  );
}
