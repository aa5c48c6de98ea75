import { afterEach, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import {
  TestClient,
  TestDaemon,
  backend,
  cleanup,
  closeCodeOf,
  describeRelays,
  newKey,
  relayFor,
  sleep,
  waitUntil,
} from "./helpers.js";

afterEach(cleanup);

/** A labelled message: client index, sequence number, some filler so sizes vary. */
function frame(client: number, seq: number): Buffer {
  return Buffer.from(`c${client}:${seq}:${"x".repeat((seq * 37 + client * 11) % 500)}`);
}

describeRelays("relay routing", () => {
  it("routes 3 clients over one daemon socket with interleaved traffic, in order, isolated", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await TestClient.connect(relay, daemon.serverId));
    await waitUntil(() => daemon.clientIds.length === 3, "3 OPENs");

    // Interleave: each round every client sends one message.
    const rounds = 200;
    for (let seq = 0; seq < rounds; seq++) for (let i = 0; i < 3; i++) clients[i]!.send(frame(i, seq));
    const expected = clients.map((_, i) => Buffer.concat(Array.from({ length: rounds }, (_, seq) => frame(i, seq))));
    await waitUntil(
      () => expected.every((e) => daemon.clientIds.some((id) => daemon.received(id).equals(e))),
      "every client's bytes, in order",
    );

    // Map clientId -> client index from the content, then reply to each id with a distinct stream.
    const indexOf = new Map(
      daemon.clientIds.map((id) => [id, Number(/^c(\d)/.exec(daemon.received(id).toString())![1])]),
    );
    expect(new Set(indexOf.values())).toEqual(new Set([0, 1, 2]));
    for (let seq = 0; seq < rounds; seq++) for (const [id, i] of indexOf) daemon.send(id, frame(i + 10, seq));
    for (const [, i] of indexOf) {
      const want = Buffer.concat(Array.from({ length: rounds }, (_, seq) => frame(i + 10, seq)));
      await waitUntil(() => clients[i]!.bytes >= want.length, `client ${i} replies`);
      expect(clients[i]!.received().equals(want)).toBe(true);
      // Isolation: every message this client got is addressed to it.
      for (const m of clients[i]!.data) expect(m.toString().startsWith(`c${i + 10}:`)).toBe(true);
    }
  });

  it("isolation: a reply to clientId X reaches only X, and a CLOSE for X leaves the others running", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const a = await TestClient.connect(relay, daemon.serverId);
    a.send(Buffer.from("a"));
    await waitUntil(() => daemon.clientIds.length === 1 && daemon.clients.get(daemon.clientIds[0]!)!.bytes === 1, "a");
    const b = await TestClient.connect(relay, daemon.serverId);
    b.send(Buffer.from("b"));
    await waitUntil(() => daemon.clientIds.length === 2 && daemon.clients.get(daemon.clientIds[1]!)!.bytes === 1, "b");
    const [idA, idB] = daemon.clientIds as [number, number];

    daemon.send(idA, Buffer.from("for-a"));
    await waitUntil(() => a.bytes === 5, "a's reply");
    await sleep(50);
    expect(b.bytes).toBe(0);

    daemon.closeClient(idA, CloseCode.OFFER_REVOKED, "revoked");
    const closedA = await a.closed;
    expect(closedA.code).toBe(CloseCode.OFFER_REVOKED);
    expect(closedA.reason).toBe("revoked");
    daemon.send(idA, Buffer.from("late")); // unknown id now: ignored, not misrouted
    daemon.send(idB, Buffer.from("for-b"));
    await waitUntil(() => b.bytes === 5, "b's reply");
    expect(b.received().toString()).toBe("for-b");
    expect(b.isOpen).toBe(true);
  });

  it("a client of a serverId with no daemon gets 4001 in under a second", async () => {
    const relay = await relayFor();
    const serverId = deriveServerId(backend, newKey().publicKey);
    const started = Date.now();
    const client = await TestClient.connect(relay, serverId, { waitOpen: false });
    client.ws.once("open", () => client.send(Buffer.from("hello"))); // a hello sent at once is simply not delivered
    const closed = await client.closed;
    expect(closed.code).toBe(CloseCode.DAEMON_OFFLINE);
    expect(closed.reason).toBe("daemon offline");
    expect(closed.at - started).toBeLessThan(1000);
  });

  it("a client arriving during a daemon's reconnect is attached when the daemon registers within the grace", async () => {
    const relay = await relayFor({ offlineGraceMs: 400 });
    const key = newKey();
    const client = await TestClient.connect(relay, deriveServerId(backend, key.publicKey));
    client.send(Buffer.from("early hello"));
    await sleep(50);
    const daemon = await TestDaemon.connect(relay, { key });
    await waitUntil(
      () => daemon.clientIds.length === 1 && daemon.received(daemon.clientIds[0]!).toString() === "early hello",
      "hello",
    );
    expect(client.isOpen).toBe(true);
  });

  it("clients get 4002 when their daemon disconnects", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const clients = [
      await TestClient.connect(relay, daemon.serverId),
      await TestClient.connect(relay, daemon.serverId),
    ];
    await waitUntil(() => daemon.clientIds.length === 2, "OPENs");
    daemon.ws.terminate(); // abrupt, like a crashed process
    for (const c of clients) expect((await c.closed).code).toBe(CloseCode.DAEMON_GONE);
    // The slot is free again: a new client is told the daemon is offline.
    const late = await TestClient.connect(relay, daemon.serverId);
    expect((await late.closed).code).toBe(CloseCode.DAEMON_OFFLINE);
  });

  it("the daemon hears when a client leaves, with the client's close code", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const client = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN");
    client.ws.close(1000, "bye");
    await waitUntil(() => daemon.clients.get(daemon.clientIds[0]!)!.closed !== undefined, "CLOSE");
    expect(daemon.clients.get(daemon.clientIds[0]!)!.closed).toEqual({ code: 1000, reason: "bye" });
  });

  it("refuses text frames (4000), bad URLs (4000) and other protocol versions (4010)", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const client = await TestClient.connect(relay, daemon.serverId);
    client.send("text is not allowed");
    expect((await client.closed).code).toBe(CloseCode.BAD_REQUEST);

    const closeOf = (path: string) => closeCodeOf(new WebSocket(`${relay.wsUrlBase}${path}`));
    expect(await closeOf(`/v1/ws?role=client&serverId=short`)).toBe(CloseCode.BAD_REQUEST);
    expect(await closeOf(`/v1/ws?role=admin&serverId=${daemon.serverId}`)).toBe(CloseCode.BAD_REQUEST);
    expect(await closeOf(`/v1/ws?role=client&role=server&serverId=${daemon.serverId}`)).toBe(CloseCode.BAD_REQUEST);
    expect(await closeOf(`/elsewhere`)).toBe(CloseCode.BAD_REQUEST);
    expect(await closeOf(`/v2/ws?role=client&serverId=${daemon.serverId}`)).toBe(CloseCode.PROTOCOL_MISMATCH);
    // None of that disturbed the daemon.
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("a daemon sending a malformed mux message or a relay-range close code is closed with 4000", async () => {
    const relay = await relayFor();
    const d1 = await TestDaemon.connect(relay);
    d1.ws.send(Buffer.from([0x10, 0, 0, 0, 1])); // OPEN is relay -> daemon only
    expect((await d1.closed).code).toBe(CloseCode.BAD_REQUEST);
    const d2 = await TestDaemon.connect(relay);
    const client = await TestClient.connect(relay, d2.serverId);
    await waitUntil(() => d2.clientIds.length === 1, "OPEN");
    d2.closeClient(d2.clientIds[0]!, CloseCode.DAEMON_OFFLINE); // a daemon may not impersonate the relay
    expect((await d2.closed).code).toBe(CloseCode.BAD_REQUEST);
    expect((await client.closed).code).toBe(CloseCode.DAEMON_GONE);
  });
});
