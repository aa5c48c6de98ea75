/**
 * The eviction policy of the daemon's handshake slots (src/daemon/handshake-slots.ts), checked directly: which
 * waiting connection loses its slot decides whether an attacker can starve an honest client. The end-to-end attacks
 * are in test/hostile/slot-exhaustion.test.ts.
 */
import { describe, expect, it } from "vitest";
import { HandshakeSlots, type EvictReason } from "../../src/daemon/handshake-slots.js";

function holder(name: string, evicted: string[]) {
  return { evict: (reason: EvictReason) => void evicted.push(`${name}:${reason}`) };
}

describe("HandshakeSlots", () => {
  it("a full table gives the newcomer the oldest waiting slot of the busiest source, never a working one", () => {
    const evicted: string[] = [];
    const slots = new HandshakeSlots(4, 8);
    const honest = slots.acquire(holder("h1", evicted), "B")!;
    slots.acquire(holder("a1", evicted), "A");
    slots.acquire(holder("a2", evicted), "A");
    slots.acquire(holder("a3", evicted), "A");
    // The honest one is the oldest overall, but A is the busiest source: A's oldest goes.
    expect(slots.acquire(holder("h2", evicted), "C")).toBeDefined();
    expect(evicted).toEqual(["a1:table-full"]);
    honest.working();
    expect(slots.acquire(holder("a4", evicted), "A")).toBeDefined();
    expect(evicted).toEqual(["a1:table-full", "a2:table-full"]);
    expect(slots.size).toBe(4);
  });

  it("refuses (undefined → 4105) only when every slot is working", () => {
    const evicted: string[] = [];
    const slots = new HandshakeSlots(2, 8);
    slots.acquire(holder("x", evicted), "A")!.working();
    const y = slots.acquire(holder("y", evicted), undefined)!;
    y.working();
    expect(slots.acquire(holder("z", evicted), "B")).toBeUndefined();
    y.release();
    expect(slots.acquire(holder("z", evicted), "B")).toBeDefined();
    expect(evicted).toEqual([]);
  });

  it("one source holds at most maxWaitingPerSource waiting slots: beyond it its own oldest goes, even with room", () => {
    const evicted: string[] = [];
    const slots = new HandshakeSlots(64, 2);
    slots.acquire(holder("a1", evicted), "A");
    slots.acquire(holder("a2", evicted), "A");
    slots.acquire(holder("a3", evicted), "A");
    expect(evicted).toEqual(["a1:source-full"]);
    slots.acquire(holder("u1", evicted), undefined);
    slots.acquire(holder("u2", evicted), undefined);
    slots.acquire(holder("u3", evicted), undefined);
    expect(evicted).toEqual(["a1:source-full"]); // untagged connections are not capped per source
    expect(slots.size).toBe(5);
  });
});
