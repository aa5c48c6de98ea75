/**
 * Issue 15 item 7: slow HTTP clients before the WebSocket upgrade were counted nowhere (the per-IP limiter only sees
 * completed upgrade requests) and lived ~33 s despite the 10 s header timeout (Node checks it every 30 s); with a
 * 1,024-fd relay they took every descriptor and honest `ls` and /health failed. Now pre-upgrade connections are
 * counted per IP at the socket level and a connection whose headers are not complete by the deadline is destroyed.
 *
 * Small configured limits (4 per IP, 500 ms) show the same logic as the 1,024-fd attack. The attacker is 127.0.0.1;
 * the honest clients bind 127.0.0.2 (all of 127/8 is loopback on Linux), a genuinely different source address.
 */
import { connect, type Socket } from "node:net";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { boundWebSocket, client, startEnv, teardown, track, withTimeout } from "./env.js";

afterEach(teardown);

/** A slow-loris connection: an upgrade request whose headers never finish. Resolves once connected. */
function slowLoris(port: number): Promise<{ socket: Socket; closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = track(connect({ host: "127.0.0.1", port, localAddress: "127.0.0.1" }), (s) => s.destroy());
    const closedAt = new Promise<number>((r) => socket.once("close", () => r(performance.now())));
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write("GET /v1/ws?role=client&serverId=aaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n");
      resolve({ socket, closedAt });
    });
    socket.once("close", () => reject(new Error("closed before connect")));
  });
}

function health(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", localAddress, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("slow HTTP clients before the upgrade", () => {
  it("are capped per IP and closed at the header deadline, while /health and an honest ls from another IP succeed", async () => {
    const env = await startEnv({ relay: { perIpHttpConnections: 4, headersTimeoutMs: 600 } });
    const port = env.relay.port;
    const t0 = performance.now();
    const held = await Promise.all(Array.from({ length: 4 }, () => slowLoris(port)));

    // One more from the same IP is dropped at once (the cap), not parked until a timeout.
    const extra = await slowLoris(port).catch(() => undefined);
    if (extra) {
      const closed = await withTimeout(extra.closedAt, 300, "connection over the per-IP cap dropped at once");
      expect(closed - t0).toBeLessThan(500);
    }

    // Meanwhile another address is served normally.
    expect(await withTimeout(health(port, "127.0.0.2"), 2000, "/health")).toBe(200);
    const honest = client(env.offer, { WebSocket: boundWebSocket("127.0.0.2") });
    await expect(withTimeout(honest.listAgents(), 3000, "honest ls")).resolves.toBeDefined();
    honest.close();

    // The held connections never finish their headers: each is destroyed at the deadline, not ~30 s later.
    const closedAt = await withTimeout(Promise.all(held.map((h) => h.closedAt)), 3000, "slow-loris sockets closed by the deadline");
    for (const at of closedAt) {
      expect(at - t0).toBeGreaterThanOrEqual(550);
      expect(at - t0).toBeLessThan(2000);
    }
    // And once they are gone, the attacker's address may connect again (the count was released).
    expect(await withTimeout(health(port, "127.0.0.1"), 2000, "/health from the same IP afterwards")).toBe(200);
  });
});
