/**
 * OfferSessions without its file watch: the backstop re-check alone closes a revoked offer's sessions within
 * SWEEP_MS (file systems that deliver no watch events), an expiry fires by timer, a single-use offer's own session
 * survives being "used", and sessions of other offers are untouched.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OfferSessions, SWEEP_MS } from "../../src/daemon/offer-sessions.js";
import { OfferStore } from "../../src/daemon/offer-store.js";

const homes: string[] = [];
const trackers: OfferSessions[] = [];
afterEach(() => {
  for (const t of trackers.splice(0)) t.stop();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), "paseo-offer-sessions-"));
  homes.push(home);
  const store = new OfferStore(home);
  const sessions = new OfferSessions(store, () => {});
  trackers.push(sessions); // start() not called: no file watch, only the sweep and timers
  return { home, store, sessions };
}

function session() {
  const s = {
    closedWith: undefined as number | undefined,
    close: (code: number) => {
      s.closedWith ??= code;
    },
  };
  return s;
}

async function until(pred: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

describe("OfferSessions", () => {
  it("without watch events, a revoke by another store instance (another process) closes only that offer's sessions within the sweep", async () => {
    const { home, store, sessions } = setup();
    const a = await store.createOffer({ label: "a" });
    const b = await store.createOffer({ label: "b" });
    const sa = session();
    const sb = session();
    sessions.open(a.id, false, sa);
    sessions.open(b.id, false, sb);
    await new OfferStore(home).revokeOffer(a.id);
    await until(() => sa.closedWith !== undefined, SWEEP_MS + 1000);
    expect(sa.closedWith).toBe(4103);
    expect(sb.closedWith).toBeUndefined();
    expect(sessions.count(a.id)).toBe(0);
    expect(sessions.count(b.id)).toBe(1);
  });

  it("expiry closes with 4102 by timer; a single-use offer's own session survives its `used` state until then", async () => {
    const { store, sessions } = setup();
    const once = await store.createOffer({ once: true, ttlMs: 400 });
    expect(await sessions.admit(once.id, true)).toBe(true);
    expect(await sessions.admit(once.id, true)).toBe("used"); // a second (or replayed) hello
    const s = session();
    sessions.open(once.id, true, s);
    await new Promise((r) => setTimeout(r, 150));
    expect(s.closedWith).toBeUndefined();
    await until(() => s.closedWith !== undefined, 1500);
    expect(s.closedWith).toBe(4102);
  });

  it("a reusable offer's use is counted at confirm(), once per session, not at admission", async () => {
    const { store, sessions } = setup();
    const o = await store.createOffer();
    expect(await sessions.admit(o.id, false)).toBe(true);
    expect(await sessions.admit(o.id, false)).toBe(true);
    const t = sessions.open(o.id, false, session());
    expect((await store.listOffers())[0]!.uses).toBe(0);
    t.confirm();
    t.confirm();
    await new Promise((r) => setTimeout(r, 50)); // recordUse runs behind confirm()
    expect((await store.listOffers())[0]!.uses).toBe(1);
    t.release();
    expect(sessions.count(o.id)).toBe(0);
  });
});
