/**
 * Issue 15 item 3: revoking or expiring an offer ends the sessions it admitted. The attack: a device whose link was
 * revoked (`paseo daemon offers revoke`, `pair --rotate`) or whose `--ttl` passed kept its open session — ran exec,
 * started agents, and its `logs -f` follower got every line. Now every such session is closed at once with the
 * offer's code (4103 revoked, 4102 expired) — the daemon's encrypted CLOSE, then the socket close — and nothing
 * more is served to it. The revoke is done by a separate CLI process, as a user would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPairing } from "../../src/daemon/pairing.js";
import type { DaemonClient } from "../../src/client/daemon-client.js";
import { decodeClose, MessageType } from "../../src/protocol/frame.js";
import type { Offer } from "../../src/protocol/offer.js";
import { killAll, runCli, startProcess } from "../e2e/harness.js";
import {
  backend,
  client,
  outcome,
  rawSession,
  relayUrl,
  request,
  startEnv,
  teardown,
  waitUntil,
  withTimeout,
  type Env,
  type RawSession,
} from "./env.js";

let env: Env;

beforeAll(async () => {
  env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
});
afterAll(async () => {
  for (const a of env.daemon.agents.list()) await env.daemon.agents.stop(a.id, 0).catch(() => {});
  await killAll();
  await teardown();
});

/** How long after the revoking CLI exits the sessions must be gone (file watch: milliseconds; backstop sweep: 1 s). */
const CLOSE_BOUND_MS = 2000;
const TICKER = [
  process.execPath,
  "-e",
  "let i = 0; const t = setInterval(() => console.log('tick ' + i++), 20); setTimeout(() => clearInterval(t), 20000)",
];
const relayFlag = () => `ws://${env.relay.endpoint.endpoint}`;
const named = (name: string) => env.daemon.agents.list({ all: true }).filter((a) => a.name === name).length;

async function newOffer(label: string, options: { ttlMs?: number; once?: boolean } = {}): Promise<Offer> {
  return (await createPairing({ home: env.daemon.home, backend, relay: env.relay.endpoint, label, ...options })).offer;
}

/** A victim session over the relay: one agent started, a `logs -f` follower receiving its lines. */
async function victim(offer: Offer, name: string) {
  const c: DaemonClient = client(offer, { reconnect: false });
  const agent = await c.runAgent({ argv: TICKER, name });
  let lines = 0;
  const follower = (async () => {
    for await (const chunk of c.logs(agent.id, { follow: true })) lines += chunk.data.length > 0 ? 1 : 0;
  })().then(
    () => undefined,
    (err: Error & { code?: string }) => err,
  );
  await waitUntil(() => lines > 3, "the follower receives the agent's lines");
  // A raw session on the same offer, confirmed by one request, to read exactly what the daemon sends on revoke.
  const raw = await rawSession(relayUrl(env.relay.endpoint, offer.serverId), offer);
  raw.sendMessage(request(1, "agents.list"));
  expect((await raw.response(1)).ok).toBe(true);
  return { c, agent, follower, raw, lines: () => lines };
}

/** Decrypt what the raw session received after its last response: the daemon's CLOSE must be there. */
async function closeSeen(raw: RawSession): Promise<{ inner: number | undefined; outer: number }> {
  const outer = (await withTimeout(raw.sock.closed, CLOSE_BOUND_MS, "socket close")).code;
  let inner: number | undefined;
  for (const bytes of raw.sock.received.slice(raw.cursor)) {
    const m = raw.channel.decrypt(new Uint8Array(bytes));
    if (m?.type === MessageType.CLOSE) inner = decodeClose(m.body).code;
  }
  return { inner, outer };
}

/** After the close: the follower ended with the named error, requests and new agents are refused. */
async function expectEnded(
  v: Awaited<ReturnType<typeof victim>>,
  code: number,
  errorCode: string,
  name: string,
  since: number,
) {
  const err = await withTimeout(v.follower, CLOSE_BOUND_MS, "the logs -f follower stops");
  expect(performance.now() - since).toBeLessThan(CLOSE_BOUND_MS);
  expect(err?.code).toBe(errorCode);
  expect(await closeSeen(v.raw)).toEqual({ inner: code, outer: code });
  const linesAtClose = v.lines();
  const again = await outcome(v.c.runAgent({ argv: TICKER, name }));
  expect(again.ok).toBe(false);
  const list = await outcome(v.c.listAgents());
  expect(list.ok).toBe(false);
  expect(named(name)).toBe(1); // the refused run started nothing
  expect(v.lines()).toBe(linesAtClose);
  // A new session with the same offer is refused at the handshake, as before.
  const fresh = await outcome(client(offerOf(v), { reconnect: false }).listAgents());
  expect(fresh.ok).toBe(false);
  await env.daemon.agents.stop(v.agent.id, 0).catch(() => {});
}

const offers = new WeakMap<object, Offer>();
const offerOf = (v: object) => offers.get(v)!;

describe("sessions end when their offer stops being valid", () => {
  it("`paseo daemon offers revoke <id>` (another process) closes the live sessions with 4103 at once", async () => {
    const offer = await newOffer("victim-revoke");
    const v = await victim(offer, "rv-revoke");
    offers.set(v, offer);
    // The same offer in a `paseo logs -f` CLI process (offer from the environment, never argv).
    const cliFollower = startProcess(["logs", "-f", v.agent.id], { PASEO_RELAY_OFFER: JSON.stringify(offer) });
    await cliFollower.waitFor(/tick \d+/, 5000);
    const r = await runCli(["daemon", "offers", "revoke", offer.offerId, "--home", env.daemon.home]);
    expect(r.code, r.stderr).toBe(0);
    const since = performance.now();
    await expectEnded(v, 4103, "OFFER_REVOKED", "rv-revoke", since);
    const code = await withTimeout(cliFollower.exited, CLOSE_BOUND_MS, "the CLI follower exits");
    expect(code).not.toBe(0);
    expect(cliFollower.stderr()).toContain("OFFER_REVOKED");
  });

  it("a --ttl passing closes the live sessions with 4102 (a timer, no request needed)", async () => {
    const r = await runCli([
      "daemon",
      "pair",
      "--bearer",
      "--ttl",
      "3s",
      "--label",
      "victim-ttl",
      "--json",
      "--no-qr",
      "--home",
      env.daemon.home,
      "--relay",
      relayFlag(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const offer = JSON.parse(r.stdout).offer as Offer;
    const v = await victim(offer, "rv-ttl");
    offers.set(v, offer);
    const expiresAt = Date.parse(offer.expiresAt!);
    await waitUntil(() => Date.now() >= expiresAt, "the ttl passes", 5000, 20);
    await expectEnded(v, 4102, "OFFER_EXPIRED", "rv-ttl", performance.now());
  });

  it("`paseo daemon pair --rotate` closes the sessions of every offer it revokes, single-use ones too", async () => {
    const reusable = await newOffer("victim-rotate");
    const once = await newOffer("victim-once", { once: true });
    const v = await victim(reusable, "rv-rotate");
    offers.set(v, reusable);
    const c1 = client(once, { reconnect: false });
    await c1.listAgents();
    const r = await runCli([
      "daemon",
      "pair",
      "--bearer",
      "--rotate",
      "--json",
      "--no-qr",
      "--home",
      env.daemon.home,
      "--relay",
      relayFlag(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const since = performance.now();
    await expectEnded(v, 4103, "OFFER_REVOKED", "rv-rotate", since);
    const onceAfter = await outcome(c1.listAgents());
    expect(onceAfter.ok).toBe(false);
    if (!onceAfter.ok) expect(onceAfter.error.code).toBe("OFFER_REVOKED");
    // The rotated-to offer works.
    expect((await outcome(client(JSON.parse(r.stdout).offer as Offer, { reconnect: false }).listAgents())).ok).toBe(
      true,
    );
  });
});
