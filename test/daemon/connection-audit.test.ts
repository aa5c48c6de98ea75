/**
 * Refused handshakes are rate-limited in the audit log (anyone who reaches the relay can cause them; unbounded they
 * would rotate genuine entries out): at most REFUSALS_PER_MINUTE lines a minute, the next one says how many were
 * suppressed. Real files in a temp home; only the clock is moved.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AUDIT_FILE, AuditLog, type AuditLine } from "../../src/daemon/audit-log.js";
import { ConnectionAudit, REFUSALS_PER_MINUTE } from "../../src/daemon/connection-audit.js";

const homes: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe("ConnectionAudit", () => {
  it("writes at most REFUSALS_PER_MINUTE refused handshakes a minute and counts the rest", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-01T00:00:00.000Z") });
    const home = mkdtempSync(join(tmpdir(), "paseo-audit-"));
    homes.push(home);
    const log = AuditLog.open(home);
    const audit = new ConnectionAudit(log, "relay#1");
    for (let i = 0; i < REFUSALS_PER_MINUTE + 30; i++) audit.handshakeRefused({ kind: "offer", id: "x" }, 4101);
    vi.setSystemTime(new Date("2026-12-01T00:01:00.000Z"));
    audit.handshakeRefused({ kind: "offer", id: "x" }, 4101);
    audit.handshakeAccepted({ kind: "offer", id: "y" }); // never limited
    log.close();
    const lines = readFileSync(join(home, AUDIT_FILE), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditLine);
    const refused = lines.filter((l) => l.event === "handshake.refused");
    expect(refused).toHaveLength(REFUSALS_PER_MINUTE + 1);
    expect(refused[0]).toMatchObject({ reason: "OFFER_UNKNOWN", code: 4101, via: "relay#1" });
    expect(refused.at(-1)).toMatchObject({ suppressed: 30 });
    expect(lines.at(-1)).toMatchObject({ event: "handshake.accepted" });
  });
});
