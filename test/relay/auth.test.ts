import { afterEach, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { answerChallenge } from "../../src/protocol/relay-auth.js";
import { encodeAuth } from "../../src/protocol/relay-mux.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import {
  TestClient,
  TestDaemon,
  backend,
  cleanup,
  closeCodeOf,
  describeRelays,
  expectStats,
  newKey,
  relayFor,
  sleep,
  waitUntil,
  wsUrl,
} from "./helpers.js";

afterEach(cleanup);

/** The real daemon keeps its slot and keeps routing after an attack. */
async function expectStillRouting(relay: Awaited<ReturnType<typeof relayFor>>, daemon: TestDaemon): Promise<void> {
  expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  daemon.echo = true;
  const client = await TestClient.connect(relay, daemon.serverId);
  client.send(Buffer.from("ping"));
  await waitUntil(() => client.bytes === 4, "echo through the real daemon");
  expect(client.received().toString()).toBe("ping");
  client.close();
}

describeRelays("relay registration (proof of possession)", () => {
  it("refuses a daemon that names the right serverId but holds a different key (4003)", async () => {
    const relay = await relayFor();
    const real = await TestDaemon.connect(relay);
    const attacker = await TestDaemon.connect(relay, { key: newKey(), serverId: real.serverId });
    expect(attacker.ready).toBe(false);
    expect((await attacker.closed).code).toBe(CloseCode.AUTH_FAILED);
    await expectStillRouting(relay, real);
  });

  it("refuses someone else's public key with a bogus MAC (4003)", async () => {
    const relay = await relayFor();
    const key = newKey();
    const real = await TestDaemon.connect(relay, { key });
    const attacker = await TestDaemon.connect(relay, {
      serverId: real.serverId,
      answer: () => encodeAuth(key.publicKey, backend.randomBytes(32)),
    });
    expect((await attacker.closed).code).toBe(CloseCode.AUTH_FAILED);
    await expectStillRouting(relay, real);
  });

  it("refuses a replayed AUTH captured from a real registration (4003)", async () => {
    const relay = await relayFor();
    const key = newKey();
    const serverId = deriveServerId(backend, key.publicKey);
    let captured: Uint8Array | undefined;
    const real = await TestDaemon.connect(relay, {
      key,
      answer: (challenge) => {
        captured = answerChallenge(backend, key, serverId, challenge);
        return captured;
      },
    });
    expect(real.ready).toBe(true);
    const replay = await TestDaemon.connect(relay, { serverId: real.serverId, answer: () => captured! });
    expect((await replay.closed).code).toBe(CloseCode.AUTH_FAILED);
    await expectStillRouting(relay, real);
  });

  it("refuses a low-order public key and malformed AUTH messages (4003)", async () => {
    const relay = await relayFor();
    const real = await TestDaemon.connect(relay);
    const zero = await TestDaemon.connect(relay, {
      serverId: real.serverId,
      answer: () => encodeAuth(new Uint8Array(32), new Uint8Array(32)),
    });
    expect((await zero.closed).code).toBe(CloseCode.AUTH_FAILED);
    const short = await TestDaemon.connect(relay, {
      serverId: real.serverId,
      answer: () => Uint8Array.of(0x02, 1, 2, 3),
    });
    expect((await short.closed).code).toBe(CloseCode.AUTH_FAILED);
    const data = await TestDaemon.connect(relay, {
      serverId: real.serverId,
      answer: () => Uint8Array.of(0x11, 0, 0, 0, 1, 9),
    });
    expect((await data.closed).code).toBe(CloseCode.AUTH_FAILED);
    await expectStats(relay, (s) => expect(s.authFailures).toBe(3));
    await expectStillRouting(relay, real);
  });

  it("a re-registration that proves the key replaces the old socket (4004) and its clients get 4002", async () => {
    const relay = await relayFor();
    const key = newKey();
    const old = await TestDaemon.connect(relay, { key });
    const client = await TestClient.connect(relay, old.serverId);
    await waitUntil(() => old.clientIds.length === 1, "OPEN on the old socket");

    const fresh = await TestDaemon.connect(relay, { key });
    expect(fresh.ready).toBe(true);
    expect((await old.closed).code).toBe(CloseCode.REPLACED);
    expect((await client.closed).code).toBe(CloseCode.DAEMON_GONE);
    await expectStillRouting(relay, fresh);
    await expectStats(relay, (s) => expect(s.daemons).toBe(1));
  });

  it("closes a daemon that does not answer the challenge in time (4008)", async () => {
    const relay = await relayFor({ authTimeoutMs: 100 });
    const ws = new WebSocket(wsUrl(relay, "server", "a".repeat(26)));
    const started = Date.now();
    const code = await closeCodeOf(ws);
    expect(code).toBe(CloseCode.TIMEOUT);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a connection still in the challenge phase does not disturb the slot holder", async () => {
    const relay = await relayFor();
    const real = await TestDaemon.connect(relay);
    // A socket that is still in the challenge phase: the real daemon must keep routing meanwhile.
    const lurker = new WebSocket(wsUrl(relay, "server", real.serverId));
    const lurkerClosed = closeCodeOf(lurker);
    await new Promise((r) => lurker.once("message", r));
    await expectStillRouting(relay, real);
    lurker.send(encodeAuth(newKey().publicKey, new Uint8Array(32)));
    const code = await lurkerClosed;
    expect(code).toBe(CloseCode.AUTH_FAILED);
    await sleep(20);
    await expectStillRouting(relay, real);
  });
});
