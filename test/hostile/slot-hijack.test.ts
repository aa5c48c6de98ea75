/**
 * The daemon's serverId slot on the relay cannot be taken by anyone who merely knows the serverId or the daemon's
 * public key S (both are in every offer), nor by replaying the daemon's recorded AUTH, nor with a low-order or
 * all-zero key. Each attempt is closed with 4003 (AUTH_FAILED), or 4008 when it never answers; the real daemon keeps
 * its slot — it never sees 4004 (which would stop it for good) — and honest clients keep working throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { fromBase64Url } from "../../src/protocol/encoding.js";
import { answerChallenge, relayAuthMac } from "../../src/protocol/relay-auth.js";
import { decodeMux, encodeAuth, encodeReady, MuxType } from "../../src/protocol/relay-mux.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import { backend, closeCode, honestLs, rawSocket, relayUrl, startEnv, teardown, track, type Env } from "./env.js";
import { startMitm, type MitmProxy } from "./mitm-proxy.js";

let env: Env;
let proxy: MitmProxy;
let reconnects: number;

beforeAll(async () => {
  env = await startEnv({
    relay: { perIpRatePerSecond: 1000, authTimeoutMs: 300 },
    // The daemon's leg goes through a recording proxy so that its genuine AUTH can be replayed.
    daemonRelay: async (r) => {
      proxy = track(await startMitm(r.endpoint), (p) => p.close());
      return proxy.endpoint;
    },
  });
  reconnects = env.daemon.relayStatus!.reconnects;
});
afterAll(teardown);

/** Open role=server for `serverId`, wait for the CHALLENGE, answer with `answer(challenge)`; resolve the close code. */
async function attempt(
  serverId: string,
  answer: ((challenge: Uint8Array) => Uint8Array | string) | undefined,
): Promise<number> {
  const sock = await rawSocket(relayUrl(env.relay.endpoint, serverId, "server"));
  const challenge = new Uint8Array(await sock.nth(0));
  expect(decodeMux(challenge).type).toBe("challenge");
  if (answer) sock.send(answer(challenge));
  const code = await closeCode(sock);
  // Whatever the attacker did, the real daemon still holds the slot and serves.
  await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  expect(env.daemon.relayStatus!.state).toBe("connected");
  expect(env.daemon.relayStatus!.reconnects).toBe(reconnects);
  expect(env.relay.stats().daemons).toBe(1);
  return code;
}

describe("taking the daemon's slot", () => {
  it("knowing serverId and S, with a made-up MAC: 4003", async () => {
    const S = fromBase64Url(env.offer.daemonPublicKeyB64)!;
    expect(await attempt(env.offer.serverId, () => encodeAuth(S, randomBytes(32)))).toBe(4003);
  });

  it("with the attacker's own (valid) key but the victim's serverId: 4003", async () => {
    const mine = backend.generateKeyPair();
    expect(await attempt(env.offer.serverId, (c) => answerChallenge(backend, mine, env.offer.serverId, c))).toBe(4003);
  });

  it("replaying the daemon's recorded AUTH on a new connection: 4003 (fresh E_r and nonce per connection)", async () => {
    const recorded = proxy.conns[0]!.frames.find((f) => f.dir === "up" && f.data[0] === MuxType.AUTH)!.data;
    expect(await attempt(env.offer.serverId, () => recorded)).toBe(4003);
  });

  it("with an all-zero or low-order S claiming that key's own serverId: 4003", async () => {
    for (const hex of [
      "00".repeat(32),
      `01${"00".repeat(31)}`,
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ]) {
      const S = Buffer.from(hex, "hex");
      const id = deriveServerId(backend, S);
      // The MAC a relay that accepted the all-zero shared secret would expect: computable without any secret key.
      const zeroMac = (c: Uint8Array) =>
        relayAuthMac(backend, new Uint8Array(32), (decodeMux(c) as { nonce: Uint8Array }).nonce, id);
      expect(await attempt(id, (c) => encodeAuth(S, zeroMac(c)))).toBe(4003);
    }
  });

  it("answering with something that is not an AUTH (READY, garbage, text): 4003 / 4000", async () => {
    expect(await attempt(env.offer.serverId, () => encodeReady())).toBe(4003);
    expect(await attempt(env.offer.serverId, () => randomBytes(65))).toBe(4003);
    expect(await attempt(env.offer.serverId, () => "AUTH please")).toBe(4000);
  });

  it("never answering (a half-open registration): 4008 after the auth timeout, slot untouched", async () => {
    const t = performance.now();
    expect(await attempt(env.offer.serverId, undefined)).toBe(4008);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it("a second AUTH on the same connection after a failure is not accepted", async () => {
    const sock = await rawSocket(relayUrl(env.relay.endpoint, env.offer.serverId, "server"));
    await sock.nth(0);
    const S = fromBase64Url(env.offer.daemonPublicKeyB64)!;
    sock.send(encodeAuth(S, randomBytes(32)));
    sock.send(encodeAuth(S, randomBytes(32)));
    expect(await closeCode(sock)).toBe(4003);
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });
});
