/**
 * Issue 15 item 2: anyone who knows a serverId (it is in every link) held silent client sockets — no hello — until
 * the daemon's handshake slots were full, and every honest `ls` got BUSY; the same against the local loopback server.
 * Now a silent connection can lose its slot to a newcomer (oldest silent one of the busiest source), the relay caps
 * silent legs per IP per serverId, and the first message has a deadline at both the relay and the daemon.
 *
 * Several source addresses: Linux routes all of 127.0.0.0/8 to loopback, so a socket bound to 127.0.0.2 reaches
 * the relay on 127.0.0.1 from a genuinely different address — no test-only trust in the relay. Limits are small
 * (8 slots) where a few dozen sockets show the same logic as the 64-socket attack.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { buildRelayUrl } from "../../src/protocol/relay-url.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import type { Offer } from "../../src/protocol/offer.js";
import { client, honestLs, sleep, startEnv, teardown, track, waitUntil, withTimeout, type Env } from "./env.js";

afterEach(teardown);

/** An attacker: `count` silent sockets from `localAddress`, each reopened as soon as it is closed, until stop(). */
function silentFlood(url: string, count: number, localAddress = "127.0.0.1") {
  let stopped = false;
  const codes: number[] = [];
  const live = new Set<WebSocket>();
  const open = () => {
    if (stopped) return;
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    live.add(ws);
    ws.on("error", () => {});
    ws.on("close", (code) => {
      live.delete(ws);
      codes.push(code);
      setTimeout(open, 5); // refill: the attack keeps its sockets up
    });
  };
  for (let i = 0; i < count; i++) open();
  const flood = {
    codes,
    get open() {
      return [...live].filter((w) => w.readyState === WebSocket.OPEN).length;
    },
    stop() {
      stopped = true;
      for (const w of live) w.terminate();
    },
  };
  return track(flood, (f) => f.stop());
}

async function localOffer(env: Env): Promise<Offer> {
  return (await readLocalOffer(env.daemon.home))!;
}

/** Five honest `ls` in a row while the flood runs: every one must succeed. */
async function honestLsRepeatedly(ls: () => Promise<number>): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await expect(withTimeout(ls(), 6000, `honest ls #${i + 1}`)).resolves.toBeTypeOf("number");
    await sleep(50);
  }
}

describe("silent pre-hello sockets cannot lock honest clients out", () => {
  it("via the relay, from the client's own IP: the reported attack — 64 silent sockets, default limits — honest ls keeps succeeding", async () => {
    // Only the connection rate is raised, so the 64 sockets open at once instead of over ~3 s.
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const flood = silentFlood(buildRelayUrl(env.relay.endpoint, "client", env.offer.serverId), 64);
    await waitUntil(() => flood.open >= 8, "the flood holds its sockets", 3000);
    await sleep(200);
    await honestLsRepeatedly(() => honestLs(env));
    // The relay keeps at most 16 silent legs per address and serverId: the oldest beyond gave way with 4007.
    expect(flood.codes).toContain(4007);
  });

  it("via the relay, from four other IPs (16 silent sockets each, up to the relay's per-IP cap): honest ls from a fifth succeeds", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 }, daemon: { maxConcurrentHandshakes: 8 } });
    const url = buildRelayUrl(env.relay.endpoint, "client", env.offer.serverId);
    const floods = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"].map((ip) => silentFlood(url, 16, ip));
    await waitUntil(() => floods.every((f) => f.open + f.codes.length >= 16), "the floods connected", 3000);
    await sleep(200);
    await honestLsRepeatedly(async () => {
      const c = client(env.offer);
      try {
        return (await c.listAgents()).length;
      } finally {
        c.close();
      }
    });
    // The daemon reclaimed slots from silent connections (4105 on the attackers), never from the honest client.
    expect(floods.flatMap((f) => f.codes)).toContain(4105);
  });

  it("against the local loopback server: 24 silent sockets on an 8-slot daemon, honest local ls keeps succeeding", async () => {
    const env = await startEnv({ daemon: { maxConcurrentHandshakes: 8 } });
    const offer = await localOffer(env);
    const flood = silentFlood(buildRelayUrl(offer.relay, "client", offer.serverId), 24);
    await waitUntil(() => flood.open >= 8, "the flood holds its sockets", 3000);
    await sleep(200);
    await honestLsRepeatedly(async () => {
      const c = client(offer);
      try {
        return (await c.listAgents()).length;
      } finally {
        c.close();
      }
    });
    expect(flood.codes).toContain(4105);
  });
});

describe("the first message has a deadline", () => {
  async function silentClose(url: string, timeoutMs: number): Promise<{ code: number; ms: number }> {
    const t0 = performance.now();
    const ws = track(new WebSocket(url, { perMessageDeflate: false }), (w) => w.terminate());
    ws.on("error", () => {});
    const code = await withTimeout(
      new Promise<number>((r) => ws.on("close", (c) => r(c))),
      timeoutMs,
      "silent socket closed",
    );
    return { code, ms: performance.now() - t0 };
  }

  it("the daemon closes a silent connection after helloTimeoutMs with 4106 (local server)", async () => {
    const env = await startEnv({ daemon: { helloTimeoutMs: 300 } });
    const offer = await localOffer(env);
    const { code, ms } = await silentClose(buildRelayUrl(offer.relay, "client", offer.serverId), 3000);
    expect(code).toBe(4106);
    expect(ms).toBeGreaterThanOrEqual(250);
  });

  it("the relay closes a silent client leg after firstMessageTimeoutMs with 4008", async () => {
    const env = await startEnv({ relay: { firstMessageTimeoutMs: 300 } });
    const { code, ms } = await silentClose(buildRelayUrl(env.relay.endpoint, "client", env.offer.serverId), 3000);
    expect(code).toBe(4008);
    expect(ms).toBeGreaterThanOrEqual(250);
    await waitUntil(() => env.relay.stats().clients === 0, "the relay forgot the client", 2000);
  });
});
