/**
 * Half-open paths: a TCP connection that stops carrying bytes without any close (a pulled cable, a NAT that forgot
 * the flow). With pings every 100 ms, each end that pings must notice within the keepalive window (two missed
 * pings), stop reporting the path as up, and — for the daemon — reconnect on its own. A connection attempt into
 * a black hole must not hang either.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/client/errors.js";
import { client, honestLs, outcome, relayUrl, sleep, startEnv, teardown, track, waitUntil } from "../hostile/env.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

afterEach(teardown);

const PING = 100;
/** Two missed pings, one more interval of timer phase, and scheduling slack on a loaded 2-core box. */
const WINDOW = 3 * PING + 600;

/** Record every relay-link state the daemon reports, with the time it was first seen. */
function watchStates(get: () => string | undefined): { states: { state: string; at: number }[]; stop(): void } {
  const states: { state: string; at: number }[] = [];
  const timer = setInterval(() => {
    const s = get();
    if (s && states.at(-1)?.state !== s) states.push({ state: s, at: performance.now() });
  }, 2);
  return { states, stop: () => clearInterval(timer) };
}

describe("half-open detection", () => {
  it("the daemon leg goes dead: the relay frees the slot and the daemon leaves 'connected' within the window, then re-registers", async () => {
    let proxy!: TcpProxy;
    const env = await startEnv({
      relay: { pingIntervalMs: PING, perIpRatePerSecond: 1000 },
      daemon: { relayPingIntervalMs: PING },
      daemonRelay: async (r) => {
        proxy = track(await startTcpProxy(r.port), (x) => x.close());
        return { endpoint: proxy.endpoint, tls: false };
      },
    });
    await honestLs(env);
    const watch = watchStates(() => env.daemon.relayStatus?.state);
    const t0 = performance.now();
    proxy.freeze();
    await waitUntil(() => env.relay.stats().daemons === 0, "relay drops the silent daemon", 2000, 2);
    const relayDetectMs = performance.now() - t0;
    await waitUntil(
      () => watch.states.some((s) => s.at > t0 && s.state !== "connected"),
      "daemon leaves 'connected'",
      2000,
      2,
    );
    const daemonDetectMs = watch.states.find((s) => s.at > t0 && s.state !== "connected")!.at - t0;
    expect(relayDetectMs).toBeLessThan(WINDOW);
    expect(daemonDetectMs).toBeLessThan(WINDOW);
    expect(env.daemon.relayStatus!.lastError ?? "").toMatch(/keepalive/);
    // A new TCP connection goes through: the daemon re-registers by itself and serves again.
    await waitUntil(
      () => env.daemon.relayStatus!.state === "connected" && env.relay.stats().daemons === 1,
      "re-registration",
      4000,
    );
    watch.stop();
    expect(env.daemon.relayStatus!.reconnects).toBeGreaterThanOrEqual(1);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("a client's path goes dead: the relay drops it within the window and the daemon releases it", async () => {
    const env = await startEnv({
      relay: { pingIntervalMs: PING, perIpRatePerSecond: 1000 },
      daemon: { relayPingIntervalMs: PING },
    });
    const proxy = track(await startTcpProxy(env.relay.port), (x) => x.close());
    const victim = client(env.offer, {
      url: relayUrl({ endpoint: proxy.endpoint, tls: false }, env.offer.serverId),
      requestTimeoutMs: 500,
    });
    await victim.connect();
    await waitUntil(() => env.daemon.relayStatus!.clients === 1, "victim attached");
    const t0 = performance.now();
    proxy.freeze();
    await waitUntil(() => env.relay.stats().clients === 0, "relay drops the silent client", 2000, 2);
    expect(performance.now() - t0).toBeLessThan(WINDOW);
    await waitUntil(() => env.daemon.relayStatus!.clients === 0, "daemon releases the client", 1000, 2);
    expect(env.relay.stats().keepaliveTimeouts).toBeGreaterThanOrEqual(1);
    // The client itself learns of the dead path at its next request, with a named error and a bound.
    const r = await outcome(victim.listAgents());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBeInstanceOf(TimeoutError);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  // The client's own keepalive (a `ping` when the path is quiet) is what lets a follower with no request
  // outstanding learn that its path died: the relay's pings are answered by the socket layer and never surface.
  it("a following client whose path goes dead notices within the keepalive window", async () => {
    const env = await startEnv({
      relay: { pingIntervalMs: PING, perIpRatePerSecond: 1000 },
      daemon: { relayPingIntervalMs: PING },
    });
    const runner = client(env.offer);
    const quiet = await runner.runAgent({
      argv: [process.execPath, "-e", "setTimeout(() => {}, 20000)"],
      name: "quiet",
    });
    runner.close();
    await waitUntil(() => env.daemon.relayStatus!.clients === 0, "runner gone");
    const proxy = track(await startTcpProxy(env.relay.port), (x) => x.close());
    const follower = client(env.offer, {
      url: relayUrl({ endpoint: proxy.endpoint, tls: false }, env.offer.serverId),
      keepaliveMs: PING,
    });
    const it = follower.logs(quiet.id, { follow: true })[Symbol.asyncIterator]();
    const next = it.next().then(
      () => "yielded",
      (e: unknown) => e,
    );
    await waitUntil(() => env.daemon.relayStatus!.clients === 1, "follower attached");
    await sleep(50);
    const t0 = performance.now();
    proxy.freeze();
    const settled = await Promise.race([next, sleep(WINDOW + 1000).then(() => "hung")]);
    // Without reconnect the follower's iterator ends with the keepalive's named error, inside the window.
    expect(settled).toBeInstanceOf(TimeoutError);
    expect((settled as TimeoutError).code).toBe("TIMEOUT");
    expect(performance.now() - t0).toBeLessThan(WINDOW);
  });

  it("the daemon's connection attempt into a black hole does not hang: it gives up and retries", async () => {
    let proxy!: TcpProxy;
    const env = await startEnv({
      relay: { pingIntervalMs: PING, perIpRatePerSecond: 1000 },
      daemon: { relayPingIntervalMs: PING },
      waitConnected: false,
      daemonRelay: async (r) => {
        proxy = track(await startTcpProxy(r.port), (x) => x.close());
        proxy.blackhole = true; // TCP accepts, then silence: no HTTP upgrade answer, no CHALLENGE
        return { endpoint: proxy.endpoint, tls: false };
      },
    });
    await sleep(300);
    expect(env.daemon.relayStatus!.state).not.toBe("connected");
    proxy.blackhole = false;
    const t = performance.now();
    await waitUntil(
      () => env.daemon.relayStatus!.state === "connected",
      "daemon abandons the stuck attempt and registers",
      5000,
    );
    expect(performance.now() - t).toBeLessThan(3000);
    expect(proxy.connections).toBeGreaterThanOrEqual(2);
  });
});
