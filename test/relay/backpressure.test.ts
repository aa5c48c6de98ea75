import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { encodePause, encodeResume } from "../../src/protocol/relay-mux.js";
import {
  TestClient,
  TestDaemon,
  cleanup,
  describeRelays,
  expectStats,
  relayFor,
  sha256,
  sleep,
  waitUntil,
} from "./helpers.js";

afterEach(cleanup);

const MiB = 1024 * 1024;

describeRelays("relay backpressure (no silent loss)", (kind, caps) => {
  it(caps.outboundBuffer
    ? "a slow reader makes the relay PAUSE the daemon for that client; after it reads again every byte arrives"
    : "a slow reader loses nothing (workerd does not expose a socket's outbound buffer, so no PAUSE: the runtime buffers)", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const slow = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN slow");
    const other = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 2, "OPEN other");
    const [slowId, otherId] = daemon.clientIds as [number, number];
    slow.keep = false;

    slow.ws.pause(); // stop reading: kernel buffers fill, then the relay's
    // The Worker relay buffers for the slow reader in workerd's memory: a smaller transfer keeps the test light.
    const data = randomBytes((caps.outboundBuffer ? 32 : 8) * MiB);
    const streaming = daemon.stream(slowId, data);
    if (caps.outboundBuffer) {
      await waitUntil(() => daemon.clients.get(slowId)!.pauses >= 1, "PAUSE for the slow client", 20_000);
    } else {
      await streaming;
    }
    await sleep(200);
    expect(slow.bytes).toBe(0);
    expect(slow.isOpen).toBe(true);

    // The paused client does not stall the daemon socket for others.
    daemon.send(otherId, Buffer.from("still here"));
    await waitUntil(() => other.bytes === 10, "other client's message while the slow one is paused");

    slow.ws.resume();
    await streaming;
    await waitUntil(() => slow.bytes === data.length, "every byte", 25_000);
    expect(slow.digest()).toBe(sha256(data));
    expect(daemon.clients.get(slowId)!.closed).toBeUndefined();
    if (caps.outboundBuffer) {
      expect(daemon.clients.get(slowId)!.resumes).toBeGreaterThanOrEqual(1);
      await expectStats(relay, (s) => {
        expect(s.closesSent[CloseCode.OVERLOADED]).toBeUndefined();
        expect(s.pausesSent).toBeGreaterThanOrEqual(1);
      });
    } else {
      expect(daemon.clients.get(slowId)!.pauses).toBe(0);
    }
  }, 30_000);

  // Only a relay that sees its outbound buffers can tell a daemon that ignores PAUSE: the Worker relay never sends
  // PAUSE (docs/relay-worker.md, "Limits that differ"), so there is nothing to ignore there.
  it.runIf(caps.outboundBuffer)(
    "a daemon that ignores PAUSE past the hard cap gets that client closed with 4006, others unaffected",
    async () => {
      const relay = await relayFor({ maxBufferedBytes: 2 * MiB });
      const daemon = await TestDaemon.connect(relay);
      const slow = await TestClient.connect(relay, daemon.serverId);
      await waitUntil(() => daemon.clientIds.length === 1, "OPEN slow");
      const other = await TestClient.connect(relay, daemon.serverId);
      await waitUntil(() => daemon.clientIds.length === 2, "OPEN other");
      const [slowId, otherId] = daemon.clientIds as [number, number];
      slow.keep = false;
      slow.ws.pause();

      const streaming = daemon.stream(slowId, randomBytes(64 * MiB), { ignorePause: true });
      await waitUntil(() => daemon.clients.get(slowId)!.closed !== undefined, "CLOSE 4006 to the daemon", 20_000);
      expect(daemon.clients.get(slowId)!.closed!.code).toBe(CloseCode.OVERLOADED);
      expect(daemon.clients.get(slowId)!.pauses).toBeGreaterThanOrEqual(1);
      await streaming;

      daemon.send(otherId, Buffer.from("fine"));
      await waitUntil(() => other.bytes === 4, "other client");
      expect(daemon.ws.readyState).toBe(WebSocket.OPEN);

      slow.ws.resume(); // the slow client learns why, after the data that was already queued for it
      expect((await slow.closed).code).toBe(CloseCode.OVERLOADED);
    },
    30_000,
  );

  it("a daemon that stops reading loses nothing and is not closed (Node: its clients are held by TCP backpressure)", async () => {
    // A 2 MiB cap: if the Node relay buffered client data for the daemon instead of pausing the clients, the daemon
    // socket would pass the cap and be closed with 4006.
    const relay = await relayFor({ maxBufferedBytes: 2 * MiB });
    const daemon = await TestDaemon.connect(relay);
    const clients = [
      await TestClient.connect(relay, daemon.serverId),
      await TestClient.connect(relay, daemon.serverId),
    ];
    await waitUntil(() => daemon.clientIds.length === 2, "OPENs");
    daemon.ws.pause();
    const size = (caps.outboundBuffer ? 16 : 4) * MiB;
    const payloads = clients.map(() => randomBytes(size));
    for (const [i, c] of clients.entries()) {
      for (let off = 0; off < payloads[i]!.length; off += 64 * 1024)
        c.send(payloads[i]!.subarray(off, off + 64 * 1024));
    }
    await sleep(500);
    // Held back on the client side — only where the relay can see the daemon's buffer and stop reading clients;
    // workerd can do neither, so there the runtime buffers toward the daemon instead.
    if (caps.outboundBuffer && caps.readHolds) expect(clients.every((c) => c.ws.bufferedAmount > 0)).toBe(true);
    daemon.ws.resume();
    await waitUntil(
      () => daemon.clientIds.every((id) => daemon.clients.get(id)!.bytes === size),
      "all client bytes",
      25_000,
    );
    const digests = daemon.clientIds.map((id) => sha256(daemon.received(id)));
    expect(new Set(digests)).toEqual(new Set(payloads.map(sha256)));
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
    await expectStats(relay, (s) => expect(s.closesSent[CloseCode.OVERLOADED]).toBeUndefined());
  }, 30_000);

  it("a daemon's PAUSE stops that client's messages until RESUME, then every one arrives in order; others flow", async () => {
    // Node stops reading the client's socket; workerd cannot, so the relay queues them (bounded by maxBufferedBytes).
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const held = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN held");
    const other = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 2, "OPEN other");
    const [heldId, otherId] = daemon.clientIds as [number, number];
    held.send(Buffer.from("first"));
    await waitUntil(() => daemon.clients.get(heldId)!.bytes === 5, "first message");

    daemon.ws.send(encodePause(heldId));
    await sleep(100);
    const messages = Array.from({ length: 50 }, (_, i) => Buffer.from(`m${i};`));
    for (const m of messages) held.send(m);
    other.send(Buffer.from("other"));
    await waitUntil(() => daemon.clients.get(otherId)!.bytes === 5, "the other client's message");
    await sleep(200);
    expect(daemon.clients.get(heldId)!.bytes).toBe(5);

    daemon.ws.send(encodeResume(heldId));
    const want = Buffer.concat([Buffer.from("first"), ...messages]);
    await waitUntil(() => daemon.clients.get(heldId)!.bytes === want.length, "the held messages");
    expect(daemon.received(heldId).equals(want)).toBe(true);
    expect(held.isOpen).toBe(true);
  });

  it.runIf(!caps.readHolds)(
    "workerd: a client that overruns the queue while PAUSEd is closed with 4006 (it cannot be left unread)",
    async () => {
      const relay = await relayFor({ maxFrameBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 });
      const daemon = await TestDaemon.connect(relay);
      const flooder = await TestClient.connect(relay, daemon.serverId);
      await waitUntil(() => daemon.clientIds.length === 1, "OPEN");
      const id = daemon.clientIds[0]!;
      flooder.send(Buffer.from("hello"));
      await waitUntil(() => daemon.clients.get(id)!.bytes === 5, "hello");
      daemon.ws.send(encodePause(id));
      await sleep(100);
      for (let i = 0; i < 8; i++) flooder.send(Buffer.alloc(64 * 1024, i));
      expect((await flooder.closed).code).toBe(CloseCode.OVERLOADED);
      await waitUntil(() => daemon.clients.get(id)!.closed?.code === CloseCode.OVERLOADED, "CLOSE 4006 to the daemon");
      expect(daemon.clients.get(id)!.bytes).toBe(5);
      expect(kind).toBe("worker");
    },
  );
});
