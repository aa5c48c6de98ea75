/**
 * Replay within and across sessions. A relay records everything; what can it make the daemon do twice?
 *   - a recorded transport message (a `run`) re-sent on the same connection or on a new one never decrypts;
 *   - a recorded hello is accepted again (by design: message 1 is replayable), but its early data is executed only
 *     when read-only — a hello carrying `agents.run` gets EARLY_DATA_REJECTED and starts nothing, however often it
 *     is replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageType } from "../../src/protocol/frame.js";
import { decodeControl } from "../../src/protocol/rpc.js";
import {
  backend,
  client,
  closeCode,
  honestLs,
  newHandshake,
  outcome,
  rawSocket,
  relayUrl,
  request,
  sleep,
  startEnv,
  teardown,
  track,
  waitUntil,
  type Env,
} from "./env.js";
import { startMitm, type MitmProxy } from "./mitm-proxy.js";
import { createPairing } from "../../src/daemon/pairing.js";
import { OfferStore } from "../../src/daemon/offer-store.js";

let env: Env;
let proxy: MitmProxy;

beforeAll(async () => {
  env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
  proxy = track(await startMitm(env.relay.endpoint), (p) => p.close());
});
afterAll(teardown);

const SLEEPER = [process.execPath, "-e", "setTimeout(() => {}, 15000)"];
const named = (name: string) => env.daemon.agents.list({ all: true }).filter((a) => a.name === name).length;
const directUrl = () => relayUrl(env.relay.endpoint, env.offer.serverId);

/** A genuine session through the recording proxy that runs one agent; returns the recorded frames. */
async function recordRun(name: string): Promise<{ hello: Buffer; run: Buffer; conn: (typeof proxy.conns)[number] }> {
  proxy.hook = () => "forward";
  const c = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId) });
  await c.connect();
  const conn = proxy.conns.at(-1)!;
  const agent = await c.runAgent({ argv: SLEEPER, name });
  expect(agent.name).toBe(name);
  expect(named(name)).toBe(1);
  const up = conn.frames.filter((f) => f.dir === "up");
  return { hello: up[0]!.data, run: up[1]!.data, conn };
}

describe("replaying a recorded `run`", () => {
  it("on the same, still-open connection: the copy fails to decrypt (4108), the agent ran once", async () => {
    const { run, conn } = await recordRun("replay-same");
    conn.toRelay(run);
    await waitUntil(() => conn.closedByRelay !== undefined, "daemon closes the replayed-into session");
    expect(conn.closedByRelay!.code).toBe(4108);
    await honestLs(env);
    expect(named("replay-same")).toBe(1);
  });

  it("on a new connection (hello, then the run message): the hello is answered, the run never decrypts", async () => {
    const { hello, run } = await recordRun("replay-new");
    const sock = await rawSocket(directUrl());
    sock.send(hello);
    await sock.nth(0); // a fresh message 2: bound to a new daemon ephemeral, useless to the replayer
    sock.send(run);
    expect(await closeCode(sock)).toBe(4108);
    // Burst variant: hello and run back to back, without waiting for the reply.
    const burst = await rawSocket(directUrl());
    burst.send(hello);
    burst.send(run);
    expect([4108]).toContain(await closeCode(burst));
    const [during] = await Promise.all([honestLs(env, { all: true })]);
    expect(during).toBeGreaterThan(0);
    expect(named("replay-new")).toBe(1);
  });

  it("the daemon's reply recorded from one session does not complete another client's handshake", async () => {
    proxy.hook = () => "forward";
    const c1 = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId) });
    await c1.listAgents();
    const oldReply = proxy.conns.at(-1)!.frames.find((f) => f.dir === "down" && f.index === 0)!.data;
    const hs = newHandshake(env.offer);
    hs.hello();
    expect(() => hs.readReply(new Uint8Array(oldReply))).toThrow(expect.objectContaining({ code: "HANDSHAKE_FAILED" }));
  });
});

describe("replaying a hello that carries early data", () => {
  it("a non-read-only early request (agents.run) is rejected with EARLY_DATA_REJECTED and runs nothing — also on every replay", async () => {
    const hs = newHandshake(env.offer);
    const hello = hs.hello(request(0, "agents.run", { argv: SLEEPER, name: "early-run" }));
    const sock = await rawSocket(directUrl());
    sock.send(hello);
    const { channel } = hs.readReply(new Uint8Array(await sock.nth(0)));
    const message = channel.decrypt(new Uint8Array(await sock.nth(1)))!;
    expect(message.type).toBe(MessageType.CONTROL);
    const res = decodeControl(message.body);
    expect(res).toMatchObject({ t: "res", id: 0, ok: false, error: { code: "EARLY_DATA_REJECTED" } });

    // The relay replays the same hello on new connections: each gets a reply and the same refusal, nothing runs.
    const replays = await Promise.all([1, 2, 3].map(() => rawSocket(directUrl())));
    for (const r of replays) r.send(hello);
    for (const r of replays) {
      await r.nth(0);
      await r.nth(1);
    }
    await honestLs(env);
    expect(named("early-run")).toBe(0);
  });

  it("the genuine client's own early `ls` replayed: answered (read-only), changes nothing", async () => {
    proxy.hook = () => "forward";
    const before = env.daemon.agents.list({ all: true }).length;
    const c = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId) });
    await c.listAgents();
    const hello = proxy.conns.at(-1)!.frames.find((f) => f.dir === "up" && f.index === 0)!.data;
    const sock = await rawSocket(directUrl());
    sock.send(hello);
    await sock.nth(0);
    await sock.nth(1); // the early response, encrypted for a session the replayer does not have
    expect(env.daemon.agents.list({ all: true }).length).toBe(before);
  });

  it("a DaemonClient never puts a non-read-only request in early data", async () => {
    proxy.hook = () => "forward";
    const c = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId) });
    const r = await outcome(c.runAgent({ argv: SLEEPER, name: "not-early" }));
    expect(r.ok).toBe(true);
    const conn = proxy.conns.at(-1)!;
    const hello = conn.frames.find((f) => f.dir === "up" && f.index === 0)!.data;
    // No early payload: version (1) + offer id (12) + e (32) + tag (16).
    expect(hello.length).toBe(1 + 12 + 32 + 16);
    // And replaying that hello + the run on a new connection still runs nothing new.
    const run = conn.frames.find((f) => f.dir === "up" && f.index === 1)!.data;
    const sock = await rawSocket(directUrl());
    sock.send(hello);
    await sock.nth(0);
    sock.send(run);
    expect(await closeCode(sock)).toBe(4108);
    expect(named("not-early")).toBe(1);
  });
});

describe("replayed hellos do not count as uses of the offer (issue 15 item 8)", () => {
  const usesOf = async (id: string) => (await new OfferStore(env.daemon.home).listOffers()).find((o) => o.id === id)!;

  it("4 real sessions + 3 replays of an early-data hello: `offers` shows 4 uses", async () => {
    proxy.hook = () => "forward";
    const { offer } = await createPairing({
      home: env.daemon.home,
      backend,
      relay: env.relay.endpoint,
      label: "count-me",
    });
    let hello: Buffer | undefined;
    for (let i = 0; i < 4; i++) {
      const c = client(offer, { url: relayUrl(proxy.endpoint, offer.serverId), reconnect: false });
      await c.listAgents(); // rides in the hello's early data
      hello ??= proxy.conns.at(-1)!.frames.find((f) => f.dir === "up" && f.index === 0)!.data;
      c.close();
    }
    const replays = await Promise.all([1, 2, 3].map(() => rawSocket(directUrl())));
    for (const r of replays) r.send(hello!);
    for (const r of replays) {
      await r.nth(0); // message 2
      await r.nth(1); // the early answer: the daemon did accept and serve each replay
      r.ws.close();
    }
    // The daemon writes counted uses within a second; wait for the real ones, then longer than one more flush.
    const deadline = Date.now() + 5000;
    while ((await usesOf(offer.offerId)).uses < 4 && Date.now() < deadline) await sleep(50);
    await sleep(1500);
    expect((await usesOf(offer.offerId)).uses).toBe(4);
  });

  it("a single-use offer: the replayed hello is refused with 4104 and the count stays 1", async () => {
    proxy.hook = () => "forward";
    const { offer } = await createPairing({
      home: env.daemon.home,
      backend,
      relay: env.relay.endpoint,
      label: "once-replay",
      once: true,
    });
    const c = client(offer, { url: relayUrl(proxy.endpoint, offer.serverId), reconnect: false });
    await c.listAgents();
    const hello = proxy.conns.at(-1)!.frames.find((f) => f.dir === "up" && f.index === 0)!.data;
    const replay = await rawSocket(directUrl());
    replay.send(hello);
    expect(await closeCode(replay)).toBe(4104);
    c.close();
    const o = await usesOf(offer.offerId);
    expect(o).toMatchObject({ uses: 1, state: "used" });
  });
});
