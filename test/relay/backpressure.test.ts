import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { TestClient, TestDaemon, cleanup, relayFor, sha256, sleep, waitUntil } from "./helpers.js";

afterEach(cleanup);

const MiB = 1024 * 1024;

describe("relay backpressure (no silent loss)", () => {
  it("a slow reader makes the relay PAUSE the daemon for that client; after it reads again every byte arrives", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    const slow = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN slow");
    const other = await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 2, "OPEN other");
    const [slowId, otherId] = daemon.clientIds as [number, number];
    slow.keep = false;

    slow.ws.pause(); // stop reading: kernel buffers fill, then the relay's
    const data = randomBytes(32 * MiB);
    const streaming = daemon.stream(slowId, data);
    await waitUntil(() => daemon.clients.get(slowId)!.pauses >= 1, "PAUSE for the slow client", 20_000);
    await sleep(200);
    expect(slow.bytes).toBe(0);
    expect(slow.isOpen).toBe(true);

    // The paused client does not stall the daemon socket for others.
    daemon.send(otherId, Buffer.from("still here"));
    await waitUntil(() => other.bytes === 10, "other client's message while the slow one is paused");

    slow.ws.resume();
    await streaming;
    await waitUntil(() => slow.bytes === data.length, "all 32 MiB", 25_000);
    expect(slow.digest()).toBe(sha256(data));
    expect(daemon.clients.get(slowId)!.resumes).toBeGreaterThanOrEqual(1);
    expect(daemon.clients.get(slowId)!.closed).toBeUndefined();
    expect(relay.stats().closesSent[CloseCode.OVERLOADED]).toBeUndefined();
    expect(relay.stats().pausesSent).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("a daemon that ignores PAUSE past the hard cap gets that client closed with 4006, others unaffected", async () => {
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
  }, 30_000);

  it("a daemon that stops reading pauses its clients (TCP backpressure) instead of buffering without bound", async () => {
    // A 2 MiB cap: if the relay buffered client data for the daemon instead of pausing the clients, the daemon
    // socket would pass the cap and be closed with 4006.
    const relay = await relayFor({ maxBufferedBytes: 2 * MiB });
    const daemon = await TestDaemon.connect(relay);
    const clients = [
      await TestClient.connect(relay, daemon.serverId),
      await TestClient.connect(relay, daemon.serverId),
    ];
    await waitUntil(() => daemon.clientIds.length === 2, "OPENs");
    daemon.ws.pause();
    const payloads = clients.map(() => randomBytes(16 * MiB));
    for (const [i, c] of clients.entries()) {
      for (let off = 0; off < payloads[i]!.length; off += 64 * 1024)
        c.send(payloads[i]!.subarray(off, off + 64 * 1024));
    }
    await sleep(500);
    expect(clients.every((c) => c.ws.bufferedAmount > 0)).toBe(true); // held back on the client side
    daemon.ws.resume();
    await waitUntil(
      () => daemon.clientIds.every((id) => daemon.clients.get(id)!.bytes === 16 * MiB),
      "all client bytes",
      25_000,
    );
    const digests = daemon.clientIds.map((id) => sha256(daemon.received(id)));
    expect(new Set(digests)).toEqual(new Set(payloads.map(sha256)));
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
    expect(relay.stats().closesSent[CloseCode.OVERLOADED]).toBeUndefined();
  }, 30_000);
});
