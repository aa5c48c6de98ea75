/** FairScheduler: round-robin service of per-client queues, with per-client pause/resume at the high/low marks. */
import { describe, expect, it } from "vitest";
import { FairScheduler } from "../../src/daemon/fair-scheduler.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
async function drain(): Promise<void> {
  for (let i = 0; i < 50; i++) await tick();
}
const msg = (n: number, fill = 0) => new Uint8Array(n).fill(fill);

describe("FairScheduler", () => {
  it("serves the first message of an idle turn at once, the rest round-robin, each client's messages in order", async () => {
    const s = new FairScheduler<string>({ budgetMs: 1000 });
    const seen: string[] = [];
    for (const k of ["a", "b", "c"])
      s.add(
        k,
        (d) => seen.push(`${k}${d[0]}`),
        () => {},
      );
    for (let i = 0; i < 3; i++) s.push("a", msg(1, i));
    s.push("b", msg(1, 0));
    for (let i = 0; i < 2; i++) s.push("c", msg(1, i));
    // Nobody had a backlog: the first message is served without an event-loop hop (keystroke latency); everything
    // else of this turn waits, so socket reads still get in first.
    expect(seen).toEqual(["a0"]);
    await drain();
    expect(seen).toEqual(["a0", "a1", "b0", "c0", "a2", "c1"]);
  });

  it("pauses a client's source above the high mark and resumes it below the low mark; others are untouched", async () => {
    const s = new FairScheduler<number>({ highWaterBytes: 100, lowWaterBytes: 40, budgetMs: 1000 });
    const pauses: [number, boolean][] = [];
    const got: number[] = [];
    s.add(
      1,
      (d) => got.push(d.length),
      (p) => pauses.push([1, p]),
    );
    s.add(
      2,
      (d) => got.push(d.length),
      (p) => pauses.push([2, p]),
    );
    // The first is served at once (idle turn); the next six queue: 120 bytes > 100, paused on the sixth.
    for (let i = 0; i < 7; i++) s.push(1, msg(20));
    s.push(2, msg(5));
    expect(pauses).toEqual([[1, true]]);
    await drain();
    expect(pauses).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(got.filter((n) => n === 20)).toHaveLength(7); // nothing dropped
    expect(got).toContain(5);
  });

  it("yields to I/O after its time budget and carries on in a later turn", async () => {
    const s = new FairScheduler<number>({ budgetMs: 0 });
    let served = 0;
    s.add(
      1,
      () => served++,
      () => {},
    );
    for (let i = 0; i < 5; i++) s.push(1, msg(1));
    expect(served).toBe(1); // the idle turn's first message, at once
    await tick();
    expect(served).toBe(2); // budget 0: one queued message, then yield
    await drain();
    expect(served).toBe(5);
  });

  it("removing a client drops its queue; pushes for unknown clients are ignored", async () => {
    const s = new FairScheduler<number>({ budgetMs: 1000 });
    const got: number[] = [];
    s.add(
      1,
      () => got.push(1),
      () => {},
    );
    s.add(
      2,
      () => got.push(2),
      () => {},
    );
    s.push(2, msg(1)); // served at once (idle turn)
    s.push(1, msg(1));
    s.push(2, msg(1));
    s.remove(1);
    s.push(3, msg(1));
    s.remove(3);
    await drain();
    expect(got).toEqual([2, 2]);
  });
});
