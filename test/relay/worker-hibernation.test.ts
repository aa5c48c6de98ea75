/**
 * Durable Object hibernation (Worker relay only: the Node relay is one process that never leaves memory). workerd
 * evicts an object after 10 s without events; with the hibernation API its sockets stay open, and the next event
 * rebuilds the object from what each socket remembered (RelaySocket.remember → serializeAttachment). A registered
 * daemon alone has no timer pending, so an idle daemon's object must go away — and come back routing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
// @ts-expect-error plain JS launcher shared with `npm run relay:worker` and the bench
import { startWorkerRelay } from "../../scripts/relay-worker.js";
import { TestClient, TestDaemon, cleanup, waitUntil } from "./helpers.js";

interface Started {
  url: string;
  port: number;
  wsUrlBase: string;
  endpoint: { endpoint: string; tls: boolean };
  close(): Promise<void>;
}

describe("Worker relay hibernation", () => {
  const lines: string[] = [];
  let relay: Started;
  beforeAll(async () => {
    relay = (await startWorkerRelay({ log: "info", onLog: (l: string) => lines.push(l) })) as Started;
  });
  afterAll(async () => {
    await cleanup();
    await relay.close();
  });

  it("an idle daemon's object is evicted while its socket stays open, then wakes and routes a new client", async () => {
    const handle = { ...relay, stats: async () => ({}) as never, kind: "worker" as const };
    const daemon = await TestDaemon.connect(handle);
    daemon.echo = true;
    // Traffic before hibernation: a client comes and goes, so the object has state worth losing.
    const first = await TestClient.connect(handle, daemon.serverId);
    first.send(Buffer.from("before"));
    await waitUntil(() => first.bytes === 6, "echo before hibernating");
    first.close();
    await first.closed;

    await waitUntil(() => lines.some((l) => l.includes("woke from hibernation")), "nothing: not yet", 500).catch(
      () => {},
    );
    expect(lines.some((l) => l.includes("woke from hibernation"))).toBe(false);
    await new Promise((r) => setTimeout(r, 12_000)); // workerd's inactivity eviction is 10 s

    const second = await TestClient.connect(handle, daemon.serverId);
    second.send(Buffer.from("after"));
    await waitUntil(() => second.bytes === 5, "echo after waking");
    expect(second.received().toString()).toBe("after");
    expect(lines.some((l) => l.includes("woke from hibernation: 1 daemon(s), 0 client(s)"))).toBe(true);
    expect(daemon.ws.readyState).toBe(WebSocket.OPEN);
    // The rebuilt daemon keeps its clientIds unique: the new client did not reuse the first one's id.
    expect(new Set(daemon.clientIds).size).toBe(2);
  }, 30_000);
});
