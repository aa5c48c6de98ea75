/** Backoff (jittered exponential delays, reset after a stable connection) — pure, driven by explicit clocks. */
import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/shared/backoff.js";

describe("Backoff", () => {
  it("doubles the cap from minMs up to maxMs; each delay lies in [cap/2, cap]", () => {
    const low = new Backoff({ minMs: 100, maxMs: 1000, stableMs: 5000, random: () => 0 });
    const high = new Backoff({ minMs: 100, maxMs: 1000, stableMs: 5000, random: () => 1 });
    const caps = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const cap of caps) {
      expect(low.next()).toBe(cap / 2);
      expect(high.next()).toBe(cap);
    }
  });

  it("jitters uniformly between the bounds", () => {
    const b = new Backoff({ minMs: 1000, maxMs: 1000, stableMs: 1, random: () => 0.25 });
    expect(b.next()).toBe(625);
    const real = new Backoff({ minMs: 400, maxMs: 400, stableMs: 1 });
    for (let i = 0; i < 100; i++) {
      const d = real.next();
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it("a connection that stayed up stableMs resets the sequence; a shorter one does not", () => {
    const b = new Backoff({ minMs: 100, maxMs: 10_000, stableMs: 5000, random: () => 1 });
    b.next();
    b.next();
    b.next(); // next cap would be 800
    b.connected(1000);
    b.disconnected(1000 + 4999); // flapped: keeps climbing
    expect(b.next()).toBe(800);
    b.connected(10_000);
    b.disconnected(15_000); // stable: back to the start
    expect(b.next()).toBe(100);
  });

  it("a disconnect without a connect (a failed attempt) does not reset, and the exponent stays bounded", () => {
    const b = new Backoff({ minMs: 1, maxMs: Number.MAX_SAFE_INTEGER, stableMs: 0, random: () => 1 });
    for (let i = 0; i < 100; i++) b.next();
    b.disconnected(0);
    expect(b.next()).toBe(2 ** 30);
  });
});
