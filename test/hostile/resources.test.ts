/**
 * Resource attacks: half-open handshakes (slowloris) and handshake floods are bounded by the daemon's handshake cap
 * (4105) and timeout (4106) and by the relay's per-IP limits (4007); oversized frames (4005), oversized Noise
 * messages (4108) and oversized reassembled messages (4109) are refused with their code and a named client error,
 * without a reconnect loop and without touching anyone else's session. Nothing the attacks create outlives them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { FrameTooLargeError, TimeoutError } from "../../src/client/errors.js";
import { ClientConnection } from "../../src/daemon/connection.js";
import { PaseoError } from "../../src/protocol/errors.js";
import { encodeChunks, MessageType } from "../../src/protocol/frame.js";
import {
  client,
  closeCode,
  honestLs,
  liveInstances,
  newHandshake,
  offerKeys,
  outcome,
  rawSession,
  rawSocket,
  relayUrl,
  sleep,
  startEnv,
  teardown,
  track,
  waitUntil,
  type Env,
} from "./env.js";
import { startMitm } from "./mitm-proxy.js";

afterEach(teardown);

const SLEEPER = [process.execPath, "-e", "setTimeout(() => {}, 15000)"];
const url = (env: Env) => relayUrl(env.relay.endpoint, env.offer.serverId);

/** Once every client is gone, no ClientConnection may survive (GC'd: nothing holds on to it). */
async function expectNoConnectionsLeft(env: Env): Promise<void> {
  await waitUntil(() => env.daemon.relayStatus!.clients === 0, "relay link has no clients", 3000);
  await waitUntil(() => env.relay.stats().clients === 0, "relay has no clients", 3000);
  await sleep(50);
  let live = await liveInstances(ClientConnection.prototype);
  for (let i = 0; live > 0 && i < 5; i++) {
    await sleep(100);
    live = await liveInstances(ClientConnection.prototype);
  }
  expect(live).toBe(0);
}

describe("handshake caps and timeouts", () => {
  it("half-open handshakes: a full table of silent sockets gives way to newcomers (4105), the rest time out (4106), honest ls succeeds", async () => {
    const env = await startEnv({
      relay: { perIpRatePerSecond: 1000 },
      daemon: { maxConcurrentHandshakes: 4, handshakeTimeoutMs: 400 },
    });
    const t0 = performance.now();
    const socks = await Promise.all(Array.from({ length: 12 }, () => rawSocket(url(env))));
    const timed = socks.map((s) => s.closed.then((c) => ({ code: c.code, ms: performance.now() - t0 })));
    // Each newcomer to the full table took the slot of the oldest silent socket: 8 of 12 already gave way.
    await waitUntil(
      () => socks.filter((s) => s.closeInfo?.code === 4105).length === 8,
      "8 silent sockets evicted",
      2000,
    );
    // While 4 silent sockets hold every slot, an honest client still gets in (it evicts one more of them).
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    const results = await Promise.all(timed);
    const busy = results.filter((r) => r.code === 4105);
    const timedOut = results.filter((r) => r.code === 4106);
    expect(busy).toHaveLength(9);
    expect(timedOut).toHaveLength(3);
    for (const r of busy) expect(r.ms).toBeLessThan(1000);
    for (const r of timedOut) {
      expect(r.ms).toBeGreaterThanOrEqual(380);
      expect(r.ms).toBeLessThan(2000);
    }
    await expectNoConnectionsLeft(env);
  });

  it("a flood of 120 bogus hellos: each refused with its own code, the daemon stays fast, nothing leaks", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000, perIpMaxConnections: 1000 } });
    const { offerId } = offerKeys(env.offer);
    const kinds = {
      // a real offer id, garbage Noise message: the decrypt fails
      garbage: () => Buffer.concat([Buffer.of(1), offerId, randomBytes(80)]),
      // an unknown offer id
      unknown: () => Buffer.concat([Buffer.of(1), randomBytes(12), randomBytes(80)]),
      // a version this daemon does not speak
      version: () => Buffer.concat([Buffer.of(9), offerId, randomBytes(80)]),
      // someone else's secret: a well-formed hello that does not authenticate
      wrongPsk: () =>
        Buffer.from(
          newHandshake({ ...env.offer, secretB64: Buffer.from(randomBytes(32)).toString("base64url") }).hello(),
        ),
    } as const;
    const expected = { garbage: 4100, unknown: 4101, version: 4111, wrongPsk: 4100 } as const;
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    // Batches of 15: the relay lets at most 16 silent legs per IP per serverId wait for their first message (§10).
    for (let batch = 0; batch < 8; batch++) {
      const socks = await Promise.all(Array.from({ length: 15 }, () => rawSocket(url(env))));
      socks.forEach((s, i) => {
        s.send(kinds[names[i % names.length]!]());
      });
      const codes = await Promise.all(socks.map((s) => closeCode(s)));
      codes.forEach((code, i) => {
        expect(code).toBe(expected[names[i % names.length]!]);
      });
      await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    }
    await expectNoConnectionsLeft(env);
  });

  it("a hello the relay swallows: the client fails with TimeoutError at its connect timeout, nothing is left behind", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 }, daemon: { handshakeTimeoutMs: 5000 } });
    const proxy = track(
      await startMitm(env.relay.endpoint, (f) => (f.dir === "up" && f.index === 0 ? "drop" : "forward")),
      (p) => p.close(),
    );
    const victim = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId), connectTimeoutMs: 400 });
    const t = performance.now();
    const r = await outcome(victim.listAgents());
    const ms = performance.now() - t;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(TimeoutError);
      expect(r.error.code).toBe("TIMEOUT");
    }
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(1500);
    // The client's close reaches the daemon through the relay, which releases the half-open connection at once.
    await waitUntil(() => proxy.conns[0]!.closedByPeer !== undefined, "victim closes its socket");
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    await expectNoConnectionsLeft(env);
  });

  it("the relay's per-IP limits: a connection burst is refused with 4007 (RATE_LIMITED), honest clients recover", async () => {
    // 1 connection per second, burst 2: the daemon's own registration used one token a moment ago.
    const env = await startEnv({ relay: { perIpRatePerSecond: 1 }, daemon: { handshakeTimeoutMs: 300 } });
    const socks = await Promise.all(Array.from({ length: 25 }, () => rawSocket(url(env), { waitOpen: false })));
    // Right behind the burst: no token left for an honest client either (named, retryable error).
    const during = await outcome(honestLs(env));
    const codes = await Promise.all(socks.map((s) => closeCode(s).catch(() => 0)));
    expect(codes.filter((c) => c === 4007).length).toBeGreaterThanOrEqual(22);
    expect(during.ok).toBe(false);
    if (!during.ok) expect(during.error.code).toBe("RATE_LIMITED");
    await sleep(1100); // a token refills
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    expect(env.daemon.relayStatus!.state).toBe("connected");
  });
});

describe("oversized frames and messages", () => {
  it("a WebSocket frame above the relay limit: 4005 for the sender only; another session and the daemon link are untouched", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const reconnects = env.daemon.relayStatus!.reconnects;
    const bystander = client(env.offer);
    const errors: PaseoError[] = [];
    bystander.on("error", (e) => errors.push(e));
    await bystander.connect();
    const attacker = await rawSocket(url(env));
    attacker.send(new Uint8Array(1024 * 1024 + 1));
    expect(await closeCode(attacker)).toBe(4005);
    // The same bystander session (no reconnect) still answers.
    await expect(bystander.listAgents()).resolves.toBeDefined();
    expect(bystander.state).toBe("connected");
    expect(errors).toEqual([]);
    expect(env.daemon.relayStatus!.reconnects).toBe(reconnects);
  });

  it("a reassembled message above the daemon's 4 MiB: FrameTooLargeError (4109), at most one reconnect (no loop), others unaffected", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const agent = await client(env.offer).runAgent({ argv: SLEEPER, name: "big-input" });
    const proxy = track(await startMitm(env.relay.endpoint), (p) => p.close());
    const victim = client(env.offer, {
      url: relayUrl(proxy.endpoint, env.offer.serverId),
      reconnect: { minMs: 50, maxMs: 100 },
    });
    const bystander = client(env.offer);
    await bystander.connect();
    const r = await outcome(victim.sendInput(agent.id, new Uint8Array(3.5 * 1024 * 1024)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(FrameTooLargeError);
      expect(r.error.code).toBe("FRAME_TOO_LARGE");
      expect(r.error.message).toMatch(/exceeds the 4194304-byte limit/); // the daemon's CLOSE names the limit (§10)
    }
    expect(proxy.conns[0]!.closedByRelay?.code).toBe(4109);
    await sleep(400); // a reconnect loop would have opened new connections by now
    // 4109 arrives as a bare socket close (the broken channel's keys are wiped, so no encrypted CLOSE can carry it),
    // and a bare close on a live session is not trusted to stop the client (a relay could forge it, §4): the client
    // reconnects once, does not resend the refused message, and stays connected — one reconnect, no loop.
    expect(proxy.conns.length).toBeLessThanOrEqual(2);
    expect(victim.state).not.toBe("reconnecting");
    await expect(bystander.listAgents()).resolves.toBeDefined();
  });

  it("a declared length above the maximum is refused at the first chunk (4109), before the body arrives", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const s = await rawSession(url(env), env.offer, { channel: { maxOutgoingMessage: 64 << 20 } });
    const first = encodeChunks({ type: MessageType.CONTROL, body: new Uint8Array(4 * 1024 * 1024 + 1) })[0]!;
    // Encrypt only the FIRST chunk (its header declares 4 MiB + 1), via a message of exactly that chunk's size.
    expect(first.length).toBeLessThanOrEqual(65519);
    const frames = s.channel.encrypt({ type: MessageType.CONTROL, body: new Uint8Array(4 * 1024 * 1024 + 1) });
    s.sock.send(frames[0]!);
    expect(await closeCode(s.sock)).toBe(4109);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("a frame above the Noise maximum (65,535 bytes) after the handshake: 4108", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const s = await rawSession(url(env), env.offer);
    s.sock.send(randomBytes(70_000));
    expect(await closeCode(s.sock)).toBe(4108);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("a frame above the Noise maximum sent to a client by the relay: a named error on the client", async () => {
    const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
    const proxy = track(await startMitm(env.relay.endpoint), (p) => p.close());
    const victim = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId) });
    const errors: PaseoError[] = [];
    victim.on("error", (e) => errors.push(e));
    await victim.connect();
    proxy.conns[0]!.toPeer(randomBytes(70_000));
    await waitUntil(() => errors.length > 0, "victim error");
    expect(errors[0]).toBeInstanceOf(PaseoError);
    expect(errors[0]!.code).toBe("NOISE_MESSAGE_TOO_LARGE");
    await waitUntil(() => proxy.conns[0]!.closedByPeer !== undefined, "victim closes");
    expect(proxy.conns[0]!.closedByPeer!.code).toBe(4108);
  });
});
