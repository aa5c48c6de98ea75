/**
 * Soak: 50 concurrent clients × 200 mixed requests each through the relay (ls, info, get, log snapshots, input,
 * the odd exec), zero errors; afterwards no connection object survives and the heap (after a full GC) is back
 * near where it started.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ClientConnection } from "../../src/daemon/connection.js";
import type { DaemonClient } from "../../src/client/daemon-client.js";
import { client, heapAfterGc, liveInstances, sleep, startEnv, teardown, waitUntil } from "../hostile/env.js";

afterAll(teardown);

const CLIENTS = 50;
const REQUESTS = 200;
const MiB = 1024 * 1024;

describe("soak", () => {
  it(`${CLIENTS} clients × ${REQUESTS} mixed requests: zero errors, memory back near its start`, async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000, perIpMaxConnections: 1000 } });
    const setup = client(env.offer);
    const printer = await setup.runAgent({
      argv: [process.execPath, "-e", "for (let i = 0; i < 50; i++) console.log('chunk', i)"],
      name: "printer",
    });
    const sink = await setup.runAgent({
      argv: [process.execPath, "-e", "process.stdin.resume(); setTimeout(() => {}, 60000)"],
      name: "sink",
    });
    await waitUntil(() => env.daemon.agents.get(printer.id).state !== "running", "printer finished", 5000);

    const ops: ((c: DaemonClient, i: number) => Promise<unknown>)[] = [
      (c) => c.listAgents(),
      (c) => c.listAgents({ all: true }),
      (c) => c.serverInfo(),
      (c) => c.getAgent(printer.id),
      async (c) => {
        let n = 0;
        for await (const chunk of c.logs(printer.id)) n += chunk.data.length;
        if (n === 0) throw new Error("empty log");
      },
      (c, i) => c.sendInput(sink.id, `ping ${i}\n`),
    ];
    const run = async (c: DaemonClient, k: number) => {
      for (let i = 0; i < REQUESTS; i++) {
        // One exec per client (spawns a process: kept rare so the soak measures the channel, not fork()).
        if (i === 100) await c.exec([process.execPath, "-e", "process.stdout.write('ok')"]);
        else await ops[(i + k) % ops.length]!(c, i);
      }
    };

    // Warm up every code path once, then take the baseline.
    const warm = client(env.offer);
    await run(warm, 0).catch(() => {}); // exercised only to load code; the soak itself must be error-free
    warm.close();
    setup.close();
    await waitUntil(() => env.daemon.relayStatus!.clients === 0, "warm-up clients gone");
    await sleep(100);
    const heapBefore = await heapAfterGc();
    const rssBefore = process.memoryUsage().rss;

    const t = performance.now();
    const clients = Array.from({ length: CLIENTS }, () =>
      client(env.offer, { requestTimeoutMs: 30_000, connectTimeoutMs: 10_000 }),
    );
    const errors: unknown[] = [];
    for (const c of clients) c.on("error", (e) => errors.push(e));
    const results = await Promise.allSettled(clients.map((c, k) => run(c, k)));
    const ms = performance.now() - t;
    const failed = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    for (const c of clients) c.close();

    await waitUntil(
      () => env.daemon.relayStatus!.clients === 0 && env.relay.stats().clients === 0,
      "all clients released",
      5000,
    );
    await sleep(200);
    const live = await liveInstances(ClientConnection.prototype);
    const heapAfter = await heapAfterGc();
    const rssAfter = process.memoryUsage().rss;
    console.log(
      `soak: ${CLIENTS * REQUESTS} requests in ${Math.round(ms)} ms; heap ${(heapBefore / MiB).toFixed(1)} → ${(heapAfter / MiB).toFixed(1)} MiB; ` +
        `rss ${(rssBefore / MiB).toFixed(0)} → ${(rssAfter / MiB).toFixed(0)} MiB; live connections ${live}`,
    );
    expect(live).toBe(0);
    // Generous: V8 keeps some code and caches; a per-request or per-connection leak would be far above this.
    expect(heapAfter - heapBefore).toBeLessThan(6 * MiB);
    expect(env.daemon.relayStatus!.state).toBe("connected");
    expect(env.daemon.relayStatus!.reconnects).toBe(0);
  });
});
