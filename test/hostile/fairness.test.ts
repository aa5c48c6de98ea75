/**
 * Fairness: one authenticated client floods small frames (tiny Noise chunks, or small complete requests) as fast as
 * the relay takes them; an honest client's `ls` latency must stay within 5× of idle. Relay and daemon run as their
 * own processes and the flooder as a third (test/hostile/flooder.mjs), so no one's CPU is counted against another.
 *
 * KNOWN GAP (marked `it.fails` so the suite stays green while documenting it; flip to `it` once fixed): the daemon
 * processes its single relay socket strictly in arrival order, and the relay can only pause *all* of a daemon's
 * clients when that socket backs up, so once the daemon is the bottleneck an honest request waits behind the
 * flooder's whole backlog (kernel socket buffers included) — observed p50 15 ms … 1.6 s versus ~0.6 ms idle.
 * See the report: per-client round-robin scheduling on the daemon side (with a per-client backlog cap) fixes it.
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
  const proc = spawn(process.execPath, [join(ROOT, "test/hostile/flooder.mjs"), relayUrl(offer.relay, offer.serverId), JSON.stringify(offer), mode, "8000"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(proc, (p) => p.exitCode === null && p.kill("SIGKILL"));
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flooder did not start: ${out}`)), 5000);
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
  // One measurement, two verdicts: the harness must work and nobody may be starved outright (a hard pass), and
  // the 5× bound (the known gap). A broken harness fails here instead of passing the `it.fails` vacuously.
  beforeAll(async () => {
    const honest = client(offer, { requestTimeoutMs: TIMEOUT });
    await honest.connect();
    await series(honest, 20, TIMEOUT); // warm-up
    const idleXs = await series(honest, 30, TIMEOUT);
    // Idle latency on loopback is sub-millisecond; a 2 ms floor keeps the bound meaningful rather than noise.
    measured = { idle: Math.max(idleXs[Math.floor(idleXs.length / 2)]!, 2), flood: {} as Measured["flood"] };
    for (const mode of ["chunks", "requests"] as const) {
      const f = await flooder(mode);
      await sleep(300); // let the flood reach its steady state
      const xs = await series(honest, 15, TIMEOUT);
      const report = await f.stop();
      const sent = Number(/sent (\d+)/.exec(report)?.[1] ?? 0);
      measured.flood[mode] = { p50: xs[Math.floor(xs.length / 2)]!, answered: xs.filter((x) => x < TIMEOUT).length, sent };
      console.log(
        `fairness: idle p50 ${measured.idle.toFixed(2)} ms; ${mode} flood: p50 ${measured.flood[mode].p50.toFixed(1)} ms, ` +
          `max ${xs.at(-1)!.toFixed(1)} ms, ${xs.length} samples, ${sent} frames sent`,
      );
      await sleep(300);
    }
  }, 40_000);

  it("the flood really floods, and the honest client still gets answers during it", () => {
    for (const mode of ["chunks", "requests"] as const) {
      expect(measured.flood[mode].sent, mode).toBeGreaterThan(1000);
      expect(measured.flood[mode].answered, mode).toBeGreaterThanOrEqual(1);
    }
  });

  it.fails("an honest client's ls latency (p50) stays within 5× of idle while another client floods", () => {
    for (const mode of ["chunks", "requests"] as const) expect(measured.flood[mode].p50, mode).toBeLessThanOrEqual(5 * measured.idle);
  });
});
