import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { IpLimiter, limiterKey } from "../../src/protocol/relay/limits.js";
import {
  TestClient,
  TestDaemon,
  cleanup,
  closeCodeOf,
  describeRelays,
  expectStats,
  relayFor,
  sleep,
  waitUntil,
  wsUrl,
} from "./helpers.js";

afterEach(cleanup);

describeRelays("relay limits", (_kind, caps) => {
  it("an oversized client frame closes that client with 4005; the daemon hears it and other clients carry on", async () => {
    const relay = await relayFor({ maxFrameBytes: 64 * 1024 });
    const daemon = await TestDaemon.connect(relay);
    daemon.echo = true;
    const big = await TestClient.connect(relay, daemon.serverId);
    const others = [await TestClient.connect(relay, daemon.serverId), await TestClient.connect(relay, daemon.serverId)];
    await waitUntil(() => daemon.clientIds.length === 3, "OPENs");
    const bigId = daemon.clientIds[0]!;

    big.send(Buffer.alloc(64 * 1024 + 1, 7));
    const closed = await big.closed;
    expect(closed.code).toBe(CloseCode.FRAME_TOO_LARGE);
    expect(closed.reason).toBe("frame too large");
    await waitUntil(() => daemon.clients.get(bigId)!.closed !== undefined, "CLOSE for the big client");
    expect(daemon.clients.get(bigId)!.closed!.code).toBe(CloseCode.FRAME_TOO_LARGE);
    expect(daemon.clients.get(bigId)!.bytes).toBe(0);

    // A frame of exactly the limit is fine, and the others keep exchanging data.
    for (const [i, c] of others.entries()) c.send(Buffer.alloc(64 * 1024, i + 1));
    for (const c of others) await waitUntil(() => c.bytes === 64 * 1024, "echo of a max-size frame");
    expect(others.every((c) => c.isOpen)).toBe(true);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
    await expectStats(relay, (s) => expect(s.closesSent[CloseCode.FRAME_TOO_LARGE]).toBe(1));
  });

  it("a daemon DATA above the limit closes the daemon with 4005 (its clients get 4002)", async () => {
    const relay = await relayFor({ maxFrameBytes: 8 * 1024 });
    const daemon = await TestDaemon.connect(relay);
    const client = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN");
    daemon.send(daemon.clientIds[0]!, Buffer.alloc(8 * 1024)); // exactly the limit: delivered
    await waitUntil(() => client.bytes === 8 * 1024, "max-size DATA");
    daemon.send(daemon.clientIds[0]!, Buffer.alloc(8 * 1024 + 1));
    expect((await daemon.closed).code).toBe(CloseCode.FRAME_TOO_LARGE);
    expect((await client.closed).code).toBe(CloseCode.DAEMON_GONE);
  });

  it("caps open connections per IP with 4007", async () => {
    const relay = await relayFor({ perIpMaxConnections: 3 });
    const daemon = await TestDaemon.connect(relay);
    const a = await TestClient.connect(relay, daemon.serverId);
    const b = await TestClient.connect(relay, daemon.serverId);
    const c = await TestClient.connect(relay, daemon.serverId);
    const closed = await c.closed;
    expect(closed.code).toBe(CloseCode.RATE_LIMITED);
    expect(a.isOpen && b.isOpen).toBe(true);
    // A slot frees up when a connection ends.
    a.close();
    await a.closed;
    await sleep(20);
    const d = await TestClient.connect(relay, daemon.serverId);
    await sleep(50);
    expect(d.isOpen).toBe(true);
  });

  it("limits the connection rate per IP with 4007", async () => {
    const relay = await relayFor({ perIpRatePerSecond: 2 }); // burst 4
    const daemon = await TestDaemon.connect(relay);
    const codes: number[] = [];
    const clients = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(relay, daemon.serverId)));
    await sleep(100);
    for (const c of clients) if (!c.isOpen) codes.push((await c.closed).code);
    expect(codes).toEqual([CloseCode.RATE_LIMITED]);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("caps clients per daemon with 4006 (the daemon and its existing client are unaffected)", async () => {
    const relay = await relayFor({ maxClientsPerDaemon: 1 });
    const daemon = await TestDaemon.connect(relay);
    daemon.echo = true;
    const first = await TestClient.connect(relay, daemon.serverId);
    const second = await TestClient.connect(relay, daemon.serverId);
    expect((await second.closed).code).toBe(CloseCode.OVERLOADED);
    first.send(Buffer.from("ok"));
    await waitUntil(() => first.bytes === 2, "echo for the first client");
    expect(daemon.clientIds.length).toBe(1);
  });

  it("silent client legs per IP per serverId: one more evicts the oldest silent one with 4007", async () => {
    const relay = await relayFor({ perIpPendingClients: 3 });
    const daemon = await TestDaemon.connect(relay);
    const talker = await TestClient.connect(relay, daemon.serverId);
    talker.send(Buffer.from("hello")); // spoke: no longer counted as silent
    const silent: TestClient[] = [];
    for (let i = 0; i < 3; i++) silent.push(await TestClient.connect(relay, daemon.serverId));
    await waitUntil(() => daemon.clientIds.length === 4, "4 OPENs");
    const newcomer = await TestClient.connect(relay, daemon.serverId);
    expect((await silent[0]!.closed).code).toBe(CloseCode.RATE_LIMITED);
    await sleep(100);
    expect([talker, silent[1]!, silent[2]!, newcomer].every((c) => c.isOpen)).toBe(true);
  });

  it("a client leg that sends nothing within firstMessageTimeoutMs is closed with 4008", async () => {
    const relay = await relayFor({ firstMessageTimeoutMs: 150 });
    const daemon = await TestDaemon.connect(relay);
    const started = Date.now();
    const silent = await TestClient.connect(relay, daemon.serverId);
    const closed = await silent.closed;
    expect(closed.code).toBe(CloseCode.TIMEOUT);
    expect(closed.at - started).toBeLessThan(1500);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes idle clients with 4008, but not idle daemons", async () => {
    const relay = await relayFor({ idleTimeoutMs: 150 });
    const daemon = await TestDaemon.connect(relay);
    const client = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN");
    const started = Date.now();
    const closed = await client.closed;
    expect(closed.code).toBe(CloseCode.TIMEOUT);
    expect(closed.at - started).toBeLessThan(1000);
    await waitUntil(() => daemon.clients.get(daemon.clientIds[0]!)!.closed?.code === CloseCode.TIMEOUT, "CLOSE 4008");
    await sleep(300);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  });

  // workerd cannot send pings (it answers them); on Cloudflare the edge terminates dead TCP connections, and the
  // Worker relay keeps the idle timeout above. So this runs against the relay that pings.
  it.runIf(caps.pings)("drops a socket that stops answering pings (half-open detection)", async () => {
    const relay = await relayFor({ pingIntervalMs: 50 });
    const daemon = await TestDaemon.connect(relay);
    // autoPong: false models a peer whose network died without a FIN.
    const silent = new WebSocket(wsUrl(relay, "client", daemon.serverId), { autoPong: false });
    const done = closeCodeOf(silent);
    const started = Date.now();
    expect(await done).toBe(CloseCode.TIMEOUT);
    expect(Date.now() - started).toBeLessThan(2000);
    await expectStats(relay, (s) => expect(s.keepaliveTimeouts).toBe(1));
    // The daemon answers pings (ws does by default) and stays.
    await sleep(200);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("IpLimiter", () => {
  it("refills tokens over time and counts active connections", () => {
    let now = 0;
    const limiter = new IpLimiter(2, 1, () => now); // burst 2
    expect(limiter.admit("a")).toBe("ok");
    expect(limiter.admit("a")).toBe("ok");
    expect(limiter.admit("a")).toBe("too-fast");
    now += 1000;
    expect(limiter.admit("a")).toBe("too-many-connections");
    limiter.release("a");
    now += 1000;
    expect(limiter.admit("a")).toBe("ok");
    expect(limiter.admit("b")).toBe("ok");
    limiter.release("a");
    limiter.release("a");
    limiter.release("b");
    now += 10_000;
    limiter.sweep();
    expect(limiter.size).toBe(0);
  });

  it("keys IPv4, IPv4-mapped and IPv6 (/64) addresses", () => {
    expect(limiterKey("203.0.113.9")).toBe("203.0.113.9");
    expect(limiterKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(limiterKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(limiterKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(limiterKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limiterKey("::1")).toBe("0:0:0:0::/64");
  });
});
