/**
 * Fairness: one authenticated client floods small frames (tiny Noise chunks, or small complete requests) as fast as
 * the relay takes them; an honest client's `ls` latency must stay within 5× of idle. Relay and daemon run as their
 * own processes and the flooder as a third (test/hostile/flooder.mjs), so no one's CPU is counted against another.
 *
 * Before the daemon served clients round-robin (src/daemon/fair-scheduler.ts) it processed its relay socket strictly
 * in arrival order, and an honest request waited behind the flooder's whole backlog: p50 15 ms … 1.6 s versus
 * ~0.6 ms idle. Now each client's backlog is capped (daemon → relay PAUSE) and served one message per turn.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { DaemonClient } from "../../src/client/daemon-client.js";
import { parseOffer, type Offer } from "../../src/protocol/offer.js";
import { killAll, ROOT, startDaemonProcess, startRelayProcess } from "../e2e/harness.js";
import { client, relayUrl, sleep, teardown, track } from "./env.js";

let offer: Offer;

beforeAll(async () => {
  const relay = await startRelayProcess();
  const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  offer = parseOffer(daemon.link!);
});
afterAll(async () => {
  await teardown();
  await killAll();
});

function flooder(mode: "chunks" | "requests"): Promise<{ proc: ChildProcess; stop(): Promise<string> }> {
  // The offer (with its secret) goes in the environment, not argv: argv is visible to every user through `ps`.
  const proc = spawn(
    process.execPath,
    [join(ROOT, "test/hostile/flooder.mjs"), relayUrl(offer.relay, offer.serverId), mode, "8000"],
    {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, FLOOD_OFFER: JSON.stringify(offer) },
    },
  );
  track(proc, (p) => p.exitCode === null && p.kill("SIGKILL"));
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`flooder did not start: ${why}`));
    };
    const timer = setTimeout(() => fail("timeout"), 5000);
    void exited.then(() => fail("it exited"));
    const check = setInterval(() => {
      if (!out.includes("ready")) return;
      clearInterval(check);
      clearTimeout(timer);
      resolve({
        proc,
        async stop() {
          proc.stdin!.end();
          await Promise.race([exited, sleep(2000)]);
          return out.trim();
        },
      });
    }, 10);
  });
}

interface Measured {
  idle: number;
  flood: Record<"chunks" | "requests", { p50: number; answered: number; sent: number }>;
}
let measured: Measured;
const TIMEOUT = 5000;

/** Latencies of up to `n` sequential `ls` calls within `budgetMs` (a timeout counts as its timeout and ends it). */
async function series(c: DaemonClient, n: number, timeoutMs: number, budgetMs = 4000): Promise<number[]> {
  const xs: number[] = [];
  const end = performance.now() + budgetMs;
  for (let i = 0; i < n && performance.now() < end; i++) {
    const t = performance.now();
    try {
      await c.listAgents();
      xs.push(performance.now() - t);
    } catch {
      xs.push(timeoutMs);
      break;
    }
  }
  return xs.sort((a, b) => a - b);
}

describe("fairness under a small-frame flood", () => {
  // One measurement, two verdicts: the harness must work and nobody may be starved outright, and the 5× bound.
  // Other test files run in parallel on 2 cores, so one measurement can be disturbed by CPU it does not control.
  // Idle is re-measured right before each flood, and each mode gets up to 3 attempts: a daemon that really starves
  // the honest client (before the round-robin fix: p50 15 ms … 4 s) fails every one of them.
  beforeAll(async () => {
    const honest = client(offer, { requestTimeoutMs: TIMEOUT });
    await honest.connect();
    await series(honest, 20, TIMEOUT); // warm-up
    measured = { idle: 0, flood: {} as Measured["flood"] };
    for (const mode of ["chunks", "requests"] as const) {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const idleXs = await series(honest, 15, TIMEOUT);
        // Idle latency on loopback is sub-millisecond; a 2 ms floor keeps the bound meaningful rather than noise.
        const idle = Math.max(idleXs[Math.floor(idleXs.length / 2)]!, 2);
        const f = await flooder(mode);
        await sleep(300); // let the flood reach its steady state
        const xs = await series(honest, 15, TIMEOUT);
        const report = await f.stop();
        const sent = Number(/sent (\d+)/.exec(report)?.[1] ?? 0);
        const result = { p50: xs[Math.floor(xs.length / 2)]!, answered: xs.filter((x) => x < TIMEOUT).length, sent };
        console.log(
          `fairness (attempt ${attempt}): idle p50 ${idle.toFixed(2)} ms; ${mode} flood: p50 ${result.p50.toFixed(1)} ms, ` +
            `max ${xs.at(-1)!.toFixed(1)} ms, ${xs.length} samples, ${sent} frames sent`,
        );
        measured.flood[mode] = result;
        measured.idle = idle;
        await sleep(300);
        if (result.p50 <= 5 * idle) break;
      }
      if (measured.flood[mode].p50 > 5 * measured.idle) break; // report this mode's failure
    }
  }, 60_000);

  it("the flood really floods, and the honest client still gets answers during it", () => {
    for (const mode of Object.keys(measured.flood) as ("chunks" | "requests")[]) {
      // The daemon now PAUSEs a backlogged client at the relay, so a request flood is throttled to what the daemon
      // serves; a few hundred 4 KiB requests in ~1 s is still far beyond any honest client.
      expect(measured.flood[mode].sent, mode).toBeGreaterThan(mode === "chunks" ? 1000 : 300);
      expect(measured.flood[mode].answered, mode).toBeGreaterThanOrEqual(1);
    }
  });

  it("an honest client's ls latency (p50) stays within 5× of idle while another client floods", () => {
    expect(Object.keys(measured.flood)).toEqual(["chunks", "requests"]);
    for (const mode of ["chunks", "requests"] as const)
      expect(measured.flood[mode].p50, mode).toBeLessThanOrEqual(5 * measured.idle);
  });
});
