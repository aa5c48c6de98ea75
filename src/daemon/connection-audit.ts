/**
 * What one connection records in the audit log (audit-log.ts, docs/audit.md), kept out of connection.ts so the
 * connection only says "this happened". Only ids, method names, sizes and codes are written — never input
 * contents, argv beyond the program name, env values, offer secrets or links.
 *
 * Recorded requests are the state-changing ones. terminal.input is recorded only when refused: a keystroke per
 * line would bury everything else; who could type is recorded by lane.take (and terminal.attach with take).
 */
import { closeCodeName } from "../protocol/close-codes.js";
import type { AuditActor, AuditLog } from "./audit-log.js";

/**
 * Refused handshakes come from anyone who can reach the relay: unbounded, they could rotate the genuine entries
 * out of the log within seconds. At most REFUSALS_PER_MINUTE are written per daemon; the rest are counted and the
 * next written refusal carries `suppressed: n` (how many were not written since the previous one).
 */
export const REFUSALS_PER_MINUTE = 120;
const refusalBudget = new WeakMap<AuditLog, { windowStart: number; written: number; suppressed: number }>();

/** Methods whose every call (success or error) is an audit entry. */
const RECORDED: ReadonlySet<string> = new Set(["agents.run", "agents.input", "agents.stop", "exec", "terminal.resize"]);

export class ConnectionAudit {
  constructor(
    private readonly log: AuditLog | undefined,
    private readonly from: string,
  ) {}

  handshakeAccepted(actor: AuditActor): void {
    this.log?.record({ event: "handshake.accepted", actor, via: this.from });
  }

  handshakeRefused(actor: AuditActor, code: number): void {
    if (!this.log) return;
    const now = Date.now();
    let b = refusalBudget.get(this.log);
    if (!b) {
      b = { windowStart: now, written: 0, suppressed: 0 };
      refusalBudget.set(this.log, b);
    }
    if (now - b.windowStart >= 60_000) {
      b.windowStart = now;
      b.written = 0;
    }
    if (b.written >= REFUSALS_PER_MINUTE) {
      b.suppressed++;
      return;
    }
    b.written++;
    const suppressed = b.suppressed;
    b.suppressed = 0;
    this.log.record({
      event: "handshake.refused",
      actor,
      reason: closeCodeName(code),
      code,
      ...(suppressed > 0 ? { suppressed } : {}),
      via: this.from,
    });
  }

  /**
   * Device events from inside a connection (branch devices): the enrollment handshake (`device.enrolled`, with the
   * SAS and the ticket's offer id) and a read-only session's refused request (`forbidden`). Revocations and rights
   * changes come from the CLI: `appendAudit(home, { event: "device.revoked" | "device.rights", deviceId, … })`.
   */
  deviceEnrolled(deviceId: string, fields: { offerId: string; rights: string; sas: string; label?: string }): void {
    this.log?.record({
      event: "device.enrolled",
      actor: { kind: "device", id: deviceId },
      deviceId,
      ...fields,
      via: this.from,
    });
  }

  forbidden(actor: AuditActor, method: string, params: Record<string, unknown>): void {
    this.log?.record({ event: "forbidden", actor, method, agentId: agentIdOf(params, undefined), via: this.from });
  }

  /** After a request completed (`error` = its RpcError code, undefined on success). */
  request(actor: AuditActor, method: string, params: Record<string, unknown>, result: unknown, error?: string): void {
    if (!this.log) return;
    // A read-only device's state-changing request (RpcError FORBIDDEN, branch devices) is its own event.
    if (error === "FORBIDDEN") return this.forbidden(actor, method, params);
    const refusedInput = method === "terminal.input" && error !== undefined;
    if (!RECORDED.has(method) && !refusedInput) {
      if (!error && (method === "terminal.take" || (method === "terminal.attach" && isWriter(result))))
        this.log.record({ event: "lane.take", actor, agentId: agentIdOf(params, result), method, via: this.from });
      return;
    }
    this.log.record({
      event: "request",
      actor,
      method,
      agentId: agentIdOf(params, result),
      ok: error === undefined,
      ...(error !== undefined ? { error } : {}),
      ...details(method, params),
      via: this.from,
    });
  }
}

function isWriter(result: unknown): boolean {
  return (result as { lane?: string } | undefined)?.lane === "writer";
}

/** Agent ids are 8 characters; a longer `id` is a bad request from the client, kept short in the log. */
const MAX_LOGGED_ID = 64;

function agentIdOf(params: Record<string, unknown>, result: unknown): string | null {
  if (typeof params.id === "string") return params.id.slice(0, MAX_LOGGED_ID);
  const r = result as { id?: unknown; agent?: { id?: unknown } } | undefined;
  if (typeof r?.id === "string") return r.id;
  if (typeof r?.agent?.id === "string") return r.agent.id;
  return null;
}

/** Sizes and names only: never the bytes typed, the argv after the program, or env values. */
function details(method: string, params: Record<string, unknown>): Record<string, unknown> {
  switch (method) {
    case "agents.input":
    case "terminal.input":
      return { inputBytes: typeof params.dataB64 === "string" ? Math.floor((params.dataB64.length * 3) / 4) : 0 };
    case "agents.run":
    case "exec": {
      const argv = Array.isArray(params.argv) ? params.argv : [];
      // With `shell`, argv[0] is a whole command line (which may hold a token): keep only its first word.
      const first = typeof argv[0] === "string" ? argv[0] : null;
      const program =
        first === null ? null : (params.shell === true ? first.trim().split(/\s+/)[0]! : first).slice(0, 200);
      const env = params.env && typeof params.env === "object" ? Object.keys(params.env).length : 0;
      return { program, argCount: Math.max(0, argv.length - 1), envCount: env };
    }
    default:
      return {};
  }
}
