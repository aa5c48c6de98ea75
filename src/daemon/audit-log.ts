/**
 * The audit log: `$PASEO_HOME/audit.jsonl`, one JSON object per line (docs/audit.md), append-only, 0600.
 *
 * Why these choices:
 *   - O_APPEND and one write(2) per line: lines from the daemon and from CLI processes (offer revoke, input off/on)
 *     never interleave, whoever writes; nobody ever rewrites or truncates the file.
 *   - Writes are synchronous: nothing is queued in the process, so a daemon crash cannot lose an entry already
 *     recorded (a request's entry is written as it completes). Entries are small and rare next to their work.
 *   - Rotation by size (ROTATE_BYTES → audit.1.jsonl, one old file kept) is done only by the daemon (`rotate: true`).
 *     A CLI process opens, appends one line and closes; if the daemon renames the file in between, that line lands
 *     in audit.1.jsonl — kept, not lost. Before each write the daemon checks that its descriptor still names
 *     audit.jsonl (another daemon generation, or a hand `mv`, may have moved it) and reopens when not.
 *   - A failing write (disk full, permissions) never throws to the caller: the daemon keeps serving, logs once,
 *     and `failure` says so in `paseo daemon status` until a write succeeds again.
 *   - Never a secret: callers pass ids, method names, sizes and close-code names only; `record` also drops any
 *     field named like a secret, link, key, env, argv or data, as a last guard against a caller's mistake.
 */
import { closeSync, fstatSync, openSync, renameSync, statSync, writeSync, constants } from "node:fs";
import { join } from "node:path";

export const AUDIT_FILE = "audit.jsonl";
export const AUDIT_OLD_FILE = "audit.1.jsonl";
/** Size at which the daemon rotates audit.jsonl to audit.1.jsonl. */
export const ROTATE_BYTES = 10 * 1024 * 1024;

/** "local" = the owner on this machine (the local offer, or a CLI process writing its own entry). */
export type AuditActorKind = "local" | "offer" | "device";
export interface AuditActor {
  kind: AuditActorKind;
  id: string | null;
}
export type AuditEvent =
  | "handshake.accepted"
  | "handshake.refused"
  | "device.enrolled"
  | "device.revoked"
  | "device.rights"
  | "offer.created"
  | "offer.revoked"
  | "input.off"
  | "input.on"
  | "request"
  | "forbidden"
  | "lane.take";

/** What a caller records; `at` is added by the log. Extra fields: ids, names, sizes, codes — never contents. */
export interface AuditEntry {
  event: AuditEvent;
  actor: AuditActor;
  [field: string]: unknown;
}
export interface AuditLine extends AuditEntry {
  at: string;
}

/** Field names that could carry a secret or contents: never written, whatever a caller passes. */
const FORBIDDEN_FIELD = /^(.*secret.*|.*B64|link|url|psk|.*key|env|data|argv|args|input|stdin|password|token)$/i;

export interface AuditFailure {
  at: string;
  message: string;
}

export interface AuditLogOptions {
  /** Rotate by size (the daemon only). */
  rotate?: boolean;
  rotateBytes?: number;
  /** Called once per failure streak (the first failed write after a success). */
  onFailure?: (failure: AuditFailure) => void;
}

export class AuditLog {
  readonly path: string;
  private fd: number | undefined;
  private _failure: AuditFailure | undefined;

  private constructor(
    readonly home: string,
    private readonly options: AuditLogOptions,
  ) {
    this.path = join(home, AUDIT_FILE);
  }

  /** Open (creating, 0600) `home/audit.jsonl`. Never throws: a file that cannot be opened is a recorded failure. */
  static open(home: string, options: AuditLogOptions = {}): AuditLog {
    const log = new AuditLog(home, options);
    try {
      log.reopen();
    } catch (err) {
      log.fail(err);
    }
    return log;
  }

  /** The last write failure, undefined while writes succeed. */
  get failure(): AuditFailure | undefined {
    return this._failure;
  }

  /** Append one entry. Never throws. */
  record(entry: AuditEntry): void {
    const clean: Record<string, unknown> = { at: new Date().toISOString(), event: entry.event, actor: entry.actor };
    for (const [k, v] of Object.entries(entry)) {
      if (k === "event" || k === "actor" || k === "at" || v === undefined) continue;
      if (FORBIDDEN_FIELD.test(k)) continue;
      clean[k] = v;
    }
    const line = Buffer.from(`${JSON.stringify(clean)}\n`, "utf8");
    try {
      if (this.fd === undefined || this.moved()) this.reopen();
      if (this.options.rotate && fstatSync(this.fd!).size + line.length > (this.options.rotateBytes ?? ROTATE_BYTES))
        this.rotateNow();
      const n = writeSync(this.fd!, line);
      if (n !== line.length) throw new Error(`short write (${n} of ${line.length} bytes)`);
      this._failure = undefined;
    } catch (err) {
      this.fail(err);
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    this.fd = undefined;
  }

  private reopen(): void {
    this.close();
    this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  }

  /** Our descriptor no longer names audit.jsonl (renamed by another process, or removed). */
  private moved(): boolean {
    try {
      const a = fstatSync(this.fd!);
      const b = statSync(this.path);
      return a.ino !== b.ino || a.dev !== b.dev;
    } catch {
      return true;
    }
  }

  private rotateNow(): void {
    renameSync(this.path, join(this.home, AUDIT_OLD_FILE)); // replaces the previous audit.1.jsonl
    this.reopen();
  }

  private fail(err: unknown): void {
    const first = this._failure === undefined;
    this._failure = { at: new Date().toISOString(), message: (err as Error)?.message ?? String(err) };
    this.close(); // retry with a fresh open next time (the disk may have been freed)
    if (first) this.options.onFailure?.(this._failure);
  }
}

/**
 * One entry from a process that is not the running daemon (the CLI's offer revoke, input off/on; pairing): open,
 * append, close — never rotates (only the daemon does). Actor defaults to the owner on this machine. Never throws.
 */
export function appendAudit(
  home: string,
  entry: { event: AuditEvent; actor?: AuditActor; [field: string]: unknown },
): void {
  const log = AuditLog.open(home);
  log.record({ via: `pid ${process.pid}`, ...entry, actor: entry.actor ?? { kind: "local", id: null } });
  log.close();
}
