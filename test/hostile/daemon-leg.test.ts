/**
 * A malicious relay on the daemon leg: a MITM between a real daemon and the real relay forges mux messages —
 * low-order CHALLENGE keys, a READY that no AUTH earned, a CHALLENGE after registration, OPEN/DATA/CLOSE/PAUSE/
 * RESUME for client ids that do not exist (or that belong to someone else), garbage bytes, text and oversized
 * frames. The daemon must never crash, never report "connected" on a path that is not registered, answer each
 * violation by dropping that socket and reconnecting (never by giving up), and keep serving honest clients.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { DaemonClient } from "../../src/client/daemon-client.js";
import { ClientConnection } from "../../src/daemon/connection.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import { LowOrderPointError, PaseoError } from "../../src/protocol/errors.js";
import { answerChallenge } from "../../src/protocol/relay-auth.js";
import {
  decodeMux,
  encodeChallenge,
  encodeClose,
  encodeData,
  encodeOpen,
  encodePause,
  encodeReady,
  encodeResume,
  type MuxMessage,
} from "../../src/protocol/relay-mux.js";
import {
  backend,
  client,
  honestLs,
  liveInstances,
  outcome,
  startEnv,
  teardown,
  track,
  waitUntil,
  sleep,
  type Env,
} from "./env.js";
import { startMitm, type Hook, type MitmProxy, type ProxyConn } from "./mitm-proxy.js";
import { lowOrderPoints } from "../protocol/shared-vectors.js";

afterEach(teardown);

/** X25519 public keys that give an all-zero DH result (Wycheproof), named by their first bytes. */
const LOW_ORDER: Record<string, string> = Object.fromEntries(
  lowOrderPoints().map((hex) => [`${hex.slice(0, 8)}…`, hex]),
);

async function envBehindMitm(hook: Hook = () => "forward"): Promise<{ env: Env; proxy: MitmProxy }> {
  let proxy!: MitmProxy;
  const env = await startEnv({
    relay: { perIpRatePerSecond: 1000 },
    daemonRelay: async (r) => {
      proxy = track(await startMitm(r.endpoint, hook), (p) => p.close());
      return proxy.endpoint;
    },
  });
  return { env, proxy };
}

const upMessages = (conn: ProxyConn): MuxMessage[] =>
  conn.frames.filter((f) => f.dir === "up").map((f) => decodeMux(new Uint8Array(f.data)));
const connectedLogs = (env: Env) => env.logs.filter((l) => l.msg.includes(": connected to ")).length;

/** A client on the daemon's loopback server: proves the daemon process still serves while its relay link is down. */
async function localLs(env: Env): Promise<number> {
  const offer = (await readLocalOffer(env.daemon.home))!;
  const c = track(new DaemonClient({ offer, backend, connectTimeoutMs: 3000 }), (x) => x.close());
  try {
    return (await c.listAgents()).length;
  } finally {
    c.close();
  }
}

describe("registration attacks", () => {
  it.each(Object.keys(LOW_ORDER))(
    "a CHALLENGE whose E_r is the low-order point %s: refused with LowOrderPointError, no AUTH, reconnect",
    async (name) => {
      const point = Buffer.from(LOW_ORDER[name]!, "hex");
      // Unit level: the daemon-side primitive refuses it with the named error.
      const key = backend.generateKeyPair();
      expect(() => answerChallenge(backend, key, "a".repeat(26), encodeChallenge(point, randomBytes(32)))).toThrow(
        LowOrderPointError,
      );

      const { env, proxy } = await envBehindMitm((f) =>
        f.conn.id === 0 && f.dir === "down" && f.index === 0
          ? { replace: encodeChallenge(point, randomBytes(32)) }
          : "forward",
      );
      const first = proxy.conns[0]!;
      expect(upMessages(first)).toEqual([]); // nothing signed for the forged key
      await waitUntil(() => first.closedByPeer !== undefined, "daemon drops the hostile socket");
      expect(first.closedByPeer!.code).toBe(4108);
      expect(env.logs.some((l) => l.level === "warn" && l.msg.includes("low-order point"))).toBe(true);
      expect(env.daemon.relayStatus!.reconnects).toBeGreaterThanOrEqual(1);
      expect(connectedLogs(env)).toBe(1); // only the honest registration
      await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    },
  );

  it("a forged READY instead of the CHALLENGE: the daemon does not report connected; it drops that socket and reconnects", async () => {
    const { env, proxy } = await envBehindMitm((f) =>
      f.conn.id === 0 && f.dir === "down" && f.index === 0 ? { replace: encodeReady() } : "forward",
    );
    const first = proxy.conns[0]!;
    await waitUntil(
      () => first.closedByPeer !== undefined,
      "daemon drops the socket that sent READY before any AUTH",
      3000,
    );
    expect(first.closedByPeer!.code).toBe(4108);
    expect(upMessages(first)).toEqual([]);
    await waitUntil(
      () => env.daemon.relayStatus!.state === "connected" && proxy.conns.length >= 2,
      "honest registration",
    );
    expect(connectedLogs(env)).toBe(1);
    // "connected" now means registered: an honest client reaches the daemon.
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("a CHALLENGE after READY (a signing oracle request): not answered; the daemon drops that socket and re-registers", async () => {
    const { env, proxy } = await envBehindMitm();
    const first = proxy.conns[0]!;
    const upBefore = upMessages(first).length;
    first.toPeer(encodeChallenge(backend.generateKeyPair().publicKey, randomBytes(32)));
    await waitUntil(() => first.closedByPeer !== undefined, "daemon drops the socket");
    expect(upMessages(first).filter((m) => m.type === "auth")).toHaveLength(1); // only the genuine one
    expect(upMessages(first).length).toBe(upBefore);
    await waitUntil(() => env.daemon.relayStatus!.state === "connected" && proxy.conns.length >= 2, "re-registration");
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });
});

describe("forged client traffic on a registered socket", () => {
  it("DATA / CLOSE / PAUSE / RESUME for unknown client ids: answered or ignored, the link stays up", async () => {
    const { env, proxy } = await envBehindMitm();
    const link = proxy.conns[0]!;
    const reconnects = env.daemon.relayStatus!.reconnects;
    const [during] = await Promise.all([
      honestLs(env),
      (async () => {
        link.toPeer(encodeData(0xdeadbeef, randomBytes(64)));
        link.toPeer(encodeClose(0xdeadbee0, 1000, "gone"));
        link.toPeer(encodePause(77));
        link.toPeer(encodeResume(77));
        link.toPeer(encodeData(0, new Uint8Array(0)));
      })(),
    ]);
    expect(during).toBeGreaterThanOrEqual(0);
    await waitUntil(
      () => upMessages(link).some((m) => m.type === "close" && m.clientId === 0xdeadbeef),
      "daemon refuses the unknown id",
    );
    const refusal = upMessages(link).find((m) => m.type === "close" && m.clientId === 0xdeadbeef) as Extract<
      MuxMessage,
      { type: "close" }
    >;
    expect(refusal.code).toBe(4108);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    expect(env.daemon.relayStatus!.state).toBe("connected");
    expect(env.daemon.relayStatus!.reconnects).toBe(reconnects);
    expect(link.closedByPeer).toBeUndefined();
  });

  it("a forged OPEN + garbage hello for a fresh id: that id is closed with a daemon code, nothing else changes", async () => {
    const { env, proxy } = await envBehindMitm();
    const link = proxy.conns[0]!;
    link.toPeer(encodeOpen(4242));
    link.toPeer(encodeData(4242, Buffer.from("GET / HTTP/1.1\r\n\r\n")));
    await waitUntil(
      () => upMessages(link).some((m) => m.type === "close" && m.clientId === 4242),
      "daemon closes the forged client",
    );
    const close = upMessages(link).find((m) => m.type === "close" && m.clientId === 4242) as Extract<
      MuxMessage,
      { type: "close" }
    >;
    expect(close.code).toBeGreaterThanOrEqual(4100);
    expect(close.code).toBeLessThanOrEqual(4199);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    expect(link.closedByPeer).toBeUndefined();
  });

  it("a forged OPEN reusing a live client's id: that client gets a named error, others are untouched, nothing leaks", async () => {
    const { env, proxy } = await envBehindMitm();
    const link = proxy.conns[0]!;
    const victim = client(env.offer);
    await victim.connect();
    await waitUntil(() => link.frames.some((f) => f.dir === "down" && f.data[0] === 0x10), "OPEN for the victim");
    const open = link.frames.filter((f) => f.dir === "down" && f.data[0] === 0x10).at(-1)!;
    const victimId = (decodeMux(new Uint8Array(open.data)) as { clientId: number }).clientId;
    const bystander = client(env.offer);
    await bystander.connect();

    link.toPeer(encodeOpen(victimId));
    await sleep(20);
    const r = await outcome(victim.listAgents());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBeInstanceOf(PaseoError);
    await expect(bystander.listAgents()).resolves.toBeDefined();
    victim.close();
    bystander.close();
    // Every ClientConnection the forged OPEN created or displaced is released once the clients are gone.
    await waitUntil(() => env.daemon.relayStatus!.clients === 0, "clients gone from the relay link");
    await sleep(100);
    const deadline = Date.now() + 3000;
    let live = await liveInstances(ClientConnection.prototype);
    while (live > 0 && Date.now() < deadline) {
      await sleep(50);
      live = await liveInstances(ClientConnection.prototype);
    }
    expect(live).toBe(0);
    expect(env.daemon.relayStatus!.clients).toBe(0);
  });
});

describe("malformed daemon-leg frames", () => {
  it.each([
    ["an unknown type byte", Uint8Array.of(0x7f, 1, 2, 3)],
    ["a truncated OPEN", Uint8Array.of(0x10, 0, 0)],
    ["an empty message", new Uint8Array(0)],
    ["a CLOSE with invalid UTF-8", Uint8Array.of(0x12, 0, 0, 0, 1, 0x03, 0xe8, 0xff, 0xfe)],
  ])(
    "%s: the daemon drops the socket (4108) and re-registers; the local server serves throughout",
    async (_what, bytes) => {
      const { env, proxy } = await envBehindMitm();
      const link = proxy.conns[0]!;
      link.toPeer(bytes);
      await waitUntil(() => link.closedByPeer !== undefined, "daemon drops the socket");
      expect(link.closedByPeer!.code).toBe(4108);
      await expect(localLs(env)).resolves.toBeGreaterThanOrEqual(0);
      await waitUntil(
        () => env.daemon.relayStatus!.state === "connected" && proxy.conns.length >= 2,
        "re-registration",
        4000,
      );
      await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    },
  );

  it("a text frame: the daemon reconnects — it must not treat its own close as the relay refusing it", async () => {
    const { env, proxy } = await envBehindMitm();
    const link = proxy.conns[0]!;
    link.toPeer("not a mux message");
    await waitUntil(() => link.closedByPeer !== undefined, "daemon drops the socket");
    await waitUntil(
      () => env.daemon.relayStatus!.state === "connected" && proxy.conns.length >= 2,
      "re-registration",
      4000,
    );
    expect(env.daemon.relayStatus!.state).not.toBe("rejected");
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("an oversized frame (2.5 MiB) from the relay: the daemon drops the socket and re-registers", async () => {
    const { env, proxy } = await envBehindMitm();
    const link = proxy.conns[0]!;
    link.toPeer(encodeData(1, new Uint8Array(2.5 * 1024 * 1024)));
    await waitUntil(() => link.closedByPeer !== undefined, "daemon drops the socket");
    await waitUntil(
      () => env.daemon.relayStatus!.state === "connected" && proxy.conns.length >= 2,
      "re-registration",
      4000,
    );
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });
});
