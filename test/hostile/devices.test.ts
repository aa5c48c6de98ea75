/**
 * Issue 16, the daemon side of devices, driven by raw device clients (hello 0x02 / 0x03 built by hand) against a
 * real relay and daemon on 127.0.0.1: enrollment with a ticket, a spent ticket, a ticket presented as a bearer
 * offer, an unknown key, a key enrolled on another daemon, a replayed enrollment, revoke (live session closed at
 * once, key refused afterwards, never re-enrolled), read-only rights (reads served, every state-changing request
 * FORBIDDEN and audited, never reaching the agent manager) and a rights change applied to a live session.
 * Revokes and rights changes are made by the CLI in its own process, as a user would.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPairing } from "../../src/daemon/pairing.js";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { deviceIdOf, sasOf } from "../../src/protocol/device.js";
import { decodeClose, MessageType } from "../../src/protocol/frame.js";
import type { Offer } from "../../src/protocol/offer.js";
import { killAll, runCli } from "../e2e/harness.js";
import { DaemonClient, type EnrolledEvent } from "../../src/client/daemon-client.js";
import { DeviceLimitError, DeviceRevokedError, EnrollmentRequiredError } from "../../src/client/errors.js";
import { type MitmProxy, startMitm } from "./mitm-proxy.js";
import {
  backend,
  closeCode,
  newHandshake,
  rawDeviceSession,
  rawSocket,
  relayUrl,
  request,
  startEnv,
  client,
  track,
  teardown,
  withTimeout,
  type Env,
  type RawDeviceSession,
} from "./env.js";

let env: Env;
let other: Env;

beforeAll(async () => {
  [env, other] = await Promise.all([
    startEnv({ relay: { perIpRatePerSecond: 1000 } }),
    startEnv({ relay: { perIpRatePerSecond: 1000 } }),
  ]);
});
afterAll(async () => {
  await killAll();
  await teardown();
});

const url = (e: Env = env) => relayUrl(e.relay.endpoint, e.offer.serverId);
const newKey = () => backend.generateKeyPair();
const idOf = (key: { publicKey: Uint8Array }) => deviceIdOf(backend, key.publicKey);

async function ticket(
  options: { once?: boolean; maxUses?: number; rights?: "read-only"; label?: string } = {},
  e: Env = env,
): Promise<Offer> {
  const once = options.once ?? options.maxUses === undefined;
  return (
    await createPairing({
      home: e.daemon.home,
      backend,
      relay: e.relay.endpoint,
      ticket: true,
      once,
      ttlMs: 15 * 60_000,
      ...(options.maxUses !== undefined ? { maxUses: options.maxUses } : {}),
      ...(options.rights ? { rights: options.rights } : {}),
      ...(options.label ? { label: options.label } : {}),
    })
  ).offer;
}

async function refusedWith(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, "the hello should have been refused").toBeInstanceOf(Error);
  const m = /^closed (\d+)$/.exec(err!.message);
  expect(m, err!.message).not.toBeNull();
  return Number(m![1]);
}

function devicesFile(e: Env = env) {
  return JSON.parse(readFileSync(join(e.daemon.home, "devices.json"), "utf8")) as {
    devices: { id: string; sas: string; rights: string; state: string; offerId: string; label: string }[];
  };
}

async function call(s: RawDeviceSession, id: number, method: string, params: Record<string, unknown> = {}) {
  s.sendMessage(request(id, method, params));
  return s.response(id);
}

describe("enrollment and enrolled devices", () => {
  it("a ticket enrolls a device once; the device then connects with its key alone; the spent ticket is refused", async () => {
    const t = await ticket({ label: "phone" });
    const key = newKey();
    const s = await rawDeviceSession(url(), env.offer, key, { ticket: t });
    const welcome = s.welcome as { t: string; session: Record<string, unknown> };
    expect(welcome.session).toEqual({
      kind: "device",
      rights: "control",
      deviceId: idOf(key),
      offerId: t.offerId,
      enrolled: true,
    });
    const record = devicesFile().devices.find((d) => d.id === idOf(key))!;
    // Both ends derive the same short code from the handshake transcript.
    expect(record.sas).toBe(sasOf(backend, s.handshakeHash));
    expect(record).toMatchObject({ label: "phone", rights: "control", state: "active", offerId: t.offerId });
    expect((await call(s, 1, "agents.list")).ok).toBe(true);
    s.sock.ws.close();

    // Later: no link, just the key (0x02), with an early read-only request: still one round trip.
    const again = await rawDeviceSession(url(), env.offer, key, { early: request(7, "agents.list") });
    expect((again.welcome as { session: { kind: string; enrolled: boolean } }).session).toMatchObject({
      kind: "device",
      enrolled: false,
    });
    expect((await again.response(7)).ok).toBe(true);
    again.sock.ws.close();

    // The single-use ticket is spent: a second device is refused (4104), the first is unaffected.
    expect(await refusedWith(rawDeviceSession(url(), env.offer, newKey(), { ticket: t }))).toBe(CloseCode.OFFER_USED);
    const offers = await runCli(["daemon", "offers", "--json", "--home", env.daemon.home]);
    const listed = (JSON.parse(offers.stdout) as { id: string; devices?: string[]; state: string }[]).find(
      (o) => o.id === t.offerId,
    )!;
    expect(listed).toMatchObject({ state: "used", devices: [idOf(key)] });
    // The owner's view: the device with its label, rights and the code it showed; the offer says whom it enrolled.
    const table = await runCli(["daemon", "devices", "--home", env.daemon.home]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${idOf(key)}\\s+phone\\s+control\\s+active`));
    expect(table.stdout).toContain(record.sas);
    expect((await runCli(["daemon", "offers", "--home", env.daemon.home])).stdout).toContain(idOf(key));
    const status = await runCli(["daemon", "status", "--json", "--home", env.daemon.home]);
    expect(JSON.parse(status.stdout).devices.active).toBeGreaterThanOrEqual(1);
  });

  it("a ticket in a bearer (0x01) hello is refused with 4115; an unknown key with 4113", async () => {
    const t = await ticket();
    const sock = await rawSocket(url());
    sock.send(newHandshake(t).hello());
    expect(await closeCode(sock)).toBe(CloseCode.ENROLLMENT_REQUIRED);
    expect(await refusedWith(rawDeviceSession(url(), env.offer, newKey()))).toBe(CloseCode.DEVICE_UNKNOWN);
  });

  it("a device key enrolled on one daemon is refused by another (4113 with its key, 4100 with the first's)", async () => {
    const key = newKey();
    (await rawDeviceSession(url(), env.offer, key, { ticket: await ticket() })).sock.ws.close();
    expect(await refusedWith(rawDeviceSession(url(other), other.offer, key))).toBe(CloseCode.DEVICE_UNKNOWN);
    // Presenting the first daemon's identity to the second: message 1 does not decrypt there.
    const crossed = { serverId: other.offer.serverId, daemonPublicKeyB64: env.offer.daemonPublicKeyB64 };
    expect(await refusedWith(rawDeviceSession(url(other), crossed, key))).toBe(CloseCode.HANDSHAKE_FAILED);
  });

  it("a replayed enrollment enrolls nothing: refused on a spent ticket, idempotent and unusable on a reusable one", async () => {
    const once = await ticket();
    const key = newKey();
    const first = await rawDeviceSession(url(), env.offer, key, { ticket: once });
    first.sock.ws.close();
    expect(await refusedWith(rawDeviceSession(url(), env.offer, key, { ticket: once, hello: first.hello }))).toBe(
      CloseCode.OFFER_USED,
    );

    const reusable = await ticket({ maxUses: 5 });
    const key2 = newKey();
    const genuine = await rawDeviceSession(url(), env.offer, key2, { ticket: reusable });
    genuine.sock.ws.close();
    const before = devicesFile().devices.length;
    // The relay replays message 1: the daemon answers (it cannot tell yet), but nothing is spent or recorded and
    // the replayer, without the device's ephemeral key, cannot read the reply or send a valid message.
    const replay = await rawSocket(url());
    replay.send(genuine.hello);
    await replay.nth(0);
    replay.send(new Uint8Array(64));
    expect(await closeCode(replay)).toBe(CloseCode.PROTOCOL_ERROR);
    expect(devicesFile().devices.length).toBe(before);
    const offers = JSON.parse((await runCli(["daemon", "offers", "--json", "--home", env.daemon.home])).stdout) as {
      id: string;
      uses: number;
    }[];
    expect(offers.find((o) => o.id === reusable.offerId)!.uses).toBe(1);
  });
});

describe("revoke and rights", () => {
  it("revoking a device closes its live session at once (4114) and refuses its key, even with a fresh ticket", async () => {
    const key = newKey();
    const s = await rawDeviceSession(url(), env.offer, key, { ticket: await ticket() });
    expect((await call(s, 1, "agents.list")).ok).toBe(true);
    const revoke = await runCli(["daemon", "devices", "revoke", idOf(key), "--home", env.daemon.home]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const closed = await withTimeout(s.sock.closed, 3000, "revoked session closed");
    expect(closed.code).toBe(CloseCode.DEVICE_REVOKED);
    // The daemon's own encrypted CLOSE came first, so the code is not the relay's word alone.
    const last = s.channel.decrypt(new Uint8Array(s.sock.received.at(-1)!));
    expect(last?.type).toBe(MessageType.CLOSE);
    expect(decodeClose(last!.body).code).toBe(CloseCode.DEVICE_REVOKED);
    expect(await refusedWith(rawDeviceSession(url(), env.offer, key))).toBe(CloseCode.DEVICE_REVOKED);
    expect(await refusedWith(rawDeviceSession(url(), env.offer, key, { ticket: await ticket() }))).toBe(
      CloseCode.DEVICE_REVOKED,
    );
    const listed = JSON.parse((await runCli(["daemon", "devices", "--json", "--home", env.daemon.home])).stdout);
    expect(listed.find((d: { id: string }) => d.id === idOf(key))).toMatchObject({ state: "revoked" });
  });

  it("a read-only device reads and watches; every state-changing request is FORBIDDEN, audited, never run", async () => {
    const key = newKey();
    const s = await rawDeviceSession(url(), env.offer, key, { ticket: await ticket({ rights: "read-only" }) });
    expect((s.welcome as { session: { rights: string } }).session.rights).toBe("read-only");
    const agentsBefore = env.daemon.agents.list({ all: true }).length;
    expect((await call(s, 1, "agents.list")).ok).toBe(true);
    expect((await call(s, 2, "server.info")).ok).toBe(true);
    const refused = [
      ["agents.run", { argv: ["true"] }],
      ["agents.input", { id: "x", dataB64: "" }],
      ["agents.stop", { id: "x" }],
      ["exec", { argv: ["true"] }],
      ["terminal.input", { id: "x", dataB64: "" }],
      ["terminal.take", { sub: 1 }],
      ["terminal.resize", { id: "x", cols: 80, rows: 24 }],
      ["terminal.attach", { id: "x", sub: 3, take: true }],
    ] as const;
    let id = 10;
    for (const [method, params] of refused) {
      const res = (await call(s, id++, method, params)) as { ok: boolean; error?: { code: string; message: string } };
      expect(res.ok, method).toBe(false);
      expect(res.error?.code, method).toBe("FORBIDDEN");
      expect(res.error?.message).toContain(`paseo daemon devices set ${idOf(key)} --control`);
    }
    expect(env.daemon.agents.list({ all: true }).length).toBe(agentsBefore);
    // Watching a terminal is reading: a read-only attach asking for control is served as a watch, never a writer.
    const owner = client(env.offer);
    const term = await owner.runAgent({ argv: ["/bin/sh"], tty: true, name: "ro-term" });
    const attached = (await call(s, 50, "terminal.attach", { id: term.id, sub: 7, mode: "control" })) as {
      ok: boolean;
      result?: { lane: string; writer: boolean };
    };
    expect(attached.ok).toBe(true);
    expect(attached.result).toMatchObject({ lane: "watcher", writer: false });
    await owner.stopAgent(term.id, { graceMs: 100 });
    owner.close();
    const audit = readFileSync(join(env.daemon.home, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; actor: { id: string }; method?: string });
    const forbidden = audit.filter((e) => e.event === "forbidden" && e.actor.id === idOf(key)).map((e) => e.method);
    expect(forbidden).toEqual(refused.map(([m]) => m));
    expect(audit.some((e) => e.event === "device.enrolled" && e.actor.id === idOf(key))).toBe(true);

    // Granting control applies to the live session (the daemon watches devices.json).
    const set = await runCli(["daemon", "devices", "set", idOf(key), "--control", "--home", env.daemon.home]);
    expect(set.code, set.stderr).toBe(0);
    let ok = false;
    for (let i = 0; i < 60 && !ok; i++) {
      const res = await call(s, 100 + i, "exec", { argv: ["true"] });
      ok = res.ok;
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ok).toBe(true);
    s.sock.ws.close();
  });

  it("enrollments stop at the daemon's maximum of active devices (4116, the ticket not spent); a revoke frees a place", async () => {
    const small = await startEnv({ relay: { perIpRatePerSecond: 1000 }, daemon: { maxActiveDevices: 2 } });
    const smallUrl = relayUrl(small.relay.endpoint, small.offer.serverId);
    const reusable = await ticket({ maxUses: 10 }, small);
    const keys = [newKey(), newKey()];
    for (const k of keys) (await rawDeviceSession(smallUrl, small.offer, k, { ticket: reusable })).sock.ws.close();
    expect(await refusedWith(rawDeviceSession(smallUrl, small.offer, newKey(), { ticket: reusable }))).toBe(
      CloseCode.DEVICE_LIMIT,
    );
    // DaemonClient names it and does not retry (the owner must revoke a device first).
    const sdk = client(reusable, {
      enroll: { deviceKeyB64: Buffer.from(newKey().secretKey).toString("base64url") },
      reconnect: { minMs: 10, maxMs: 20 },
      url: smallUrl,
    });
    const err = await sdk.listAgents().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(DeviceLimitError);
    const offers = JSON.parse((await runCli(["daemon", "offers", "--json", "--home", small.daemon.home])).stdout);
    expect(offers.find((o: { id: string }) => o.id === reusable.offerId).uses).toBe(2);
    await runCli(["daemon", "devices", "revoke", idOf(keys[0]!), "--home", small.daemon.home]);
    (await rawDeviceSession(smallUrl, small.offer, newKey(), { ticket: reusable })).sock.ws.close();
  });

  it("devices revoke/set: an unknown id and a missing rights flag are named errors", async () => {
    const unknown = await runCli(["daemon", "devices", "revoke", "zzzzzzzz", "--home", env.daemon.home]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no device with id "zzzzzzzz".*\[DEVICE_NOT_FOUND\]/);
    const noFlag = await runCli(["daemon", "devices", "set", "zzzzzzzz", "--home", env.daemon.home]);
    expect(noFlag.code).toBe(1);
    expect(noFlag.stderr).toMatch(/--read-only` or `--control`.*\[USAGE\]/);
  });
});

describe("DaemonClient as a device (through a relay that can drop frames)", () => {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  let proxy: MitmProxy;
  beforeAll(async () => {
    proxy = track(await startMitm(env.relay.endpoint), (p) => p.close());
  });
  const viaProxy = () => relayUrl(proxy.endpoint, env.offer.serverId);

  it("enrolls with a ticket (event with the daemon's SAS), reconnects as the device, then connects with the key alone", async () => {
    proxy.hook = () => "forward";
    const t = await ticket({ label: "sdk" });
    const key = newKey();
    const c = client(t, {
      url: viaProxy(),
      enroll: { deviceKeyB64: b64(key.secretKey) },
      reconnect: { minMs: 20, maxMs: 100 },
    });
    const events: EnrolledEvent[] = [];
    c.on("enrolled", (e) => events.push(e));
    const since = proxy.conns.length;
    expect(await c.listAgents()).toBeInstanceOf(Array);
    const record = devicesFile().devices.find((d) => d.id === idOf(key))!;
    expect(events).toEqual([{ deviceId: idOf(key), sas: record.sas, rights: "control", label: "sdk" }]);
    expect(c.session).toMatchObject({ kind: "device", deviceId: idOf(key), enrolled: true });
    // The path drops: the client comes back by itself, as the device (0x02) — the single-use ticket is spent.
    const first = await proxy.nextConn(since);
    expect(first.frames.find((f) => f.dir === "up")!.data[0]).toBe(0x03);
    first.sever();
    const second = await proxy.nextConn(since + 1);
    expect(await c.call("ping", {})).toEqual({});
    expect(second.frames.find((f) => f.dir === "up")!.data[0]).toBe(0x02);
    expect(c.session).toMatchObject({ kind: "device", enrolled: false });
    expect(events).toHaveLength(1);
    c.close();

    // Another process later: the credential alone, no link.
    const d = new DaemonClient({
      device: {
        serverId: env.offer.serverId,
        daemonPublicKeyB64: env.offer.daemonPublicKeyB64,
        relay: env.relay.endpoint,
        deviceKeyB64: b64(key.secretKey),
      },
      backend,
      connectTimeoutMs: 5000,
    });
    track(d, (x) => x.close());
    expect(await d.listAgents()).toBeInstanceOf(Array);
    expect(d.offer).toBeUndefined();
    d.close();
  });

  it("message 2 of the enrollment lost: the retry tries the device key first and finds itself enrolled", async () => {
    const t = await ticket();
    const key = newKey();
    let dropped = 0;
    proxy.hook = (f) => (f.dir === "down" && f.index === 0 && dropped++ === 0 ? "drop" : "forward");
    const c = client(t, {
      url: viaProxy(),
      enroll: { deviceKeyB64: b64(key.secretKey) },
      connectTimeoutMs: 800,
      reconnect: { minMs: 20, maxMs: 100 },
    });
    expect(await c.listAgents()).toBeInstanceOf(Array);
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(c.session).toMatchObject({ kind: "device", deviceId: idOf(key) });
    expect(devicesFile().devices.filter((d) => d.id === idOf(key))).toHaveLength(1);
    c.close();
    proxy.hook = () => "forward";
  });

  it("a ticket without `enroll` is refused before dialing; a revoked device gets DeviceRevokedError", async () => {
    const t = await ticket();
    expect(() => new DaemonClient({ offer: t, backend })).toThrow(EnrollmentRequiredError);
    const key = newKey();
    const c = client(t, { enroll: { deviceKeyB64: b64(key.secretKey) } });
    await c.listAgents();
    c.close();
    await runCli(["daemon", "devices", "revoke", idOf(key), "--home", env.daemon.home]);
    const d = new DaemonClient({
      device: {
        serverId: env.offer.serverId,
        daemonPublicKeyB64: env.offer.daemonPublicKeyB64,
        relay: env.relay.endpoint,
        deviceKeyB64: b64(key.secretKey),
      },
      backend,
    });
    track(d, (x) => x.close());
    const err = await d.listAgents().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(DeviceRevokedError);
    expect(err!.message).toMatch(/revoked.*paseo daemon pair/);
  });
});
