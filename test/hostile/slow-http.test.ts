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
import { boundWebSocket, client, sleep, startEnv, teardown, track, withTimeout } from "./env.js";

afterEach(teardown);

/** A slow-loris connection: an upgrade request whose headers never finish. Resolves once connected. */
function slowLoris(port: number): Promise<{ socket: Socket; closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = track(connect({ host: "127.0.0.1", port, localAddress: "127.0.0.1" }), (s) => s.destroy());
    const closedAt = new Promise<number>((r) => socket.once("close", () => r(performance.now())));
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(
        "GET /v1/ws?role=client&serverId=aaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n",
      );
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
  it("are capped per IP, while /health and an honest ls from another IP succeed", async () => {
    const env = await startEnv({ relay: { perIpHttpConnections: 4 } });
    const port = env.relay.port;
    const held = await Promise.all(Array.from({ length: 4 }, () => slowLoris(port)));

    // One more from the same IP is dropped at once (the cap), not parked until a timeout.
    const t0 = performance.now();
    const extra = await slowLoris(port).catch(() => undefined);
    if (extra) await withTimeout(extra.closedAt, 300, "connection over the per-IP cap dropped at once");
    expect(performance.now() - t0).toBeLessThan(500);
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);

    // Meanwhile another address is served normally.
    expect(await withTimeout(health(port, "127.0.0.2"), 2000, "/health")).toBe(200);
    const honest = client(env.offer, { WebSocket: boundWebSocket("127.0.0.2") });
    await expect(withTimeout(honest.listAgents(), 3000, "honest ls")).resolves.toBeDefined();
    honest.close();

    // Once the attacker's connections are gone, its address may connect again (the count was released).
    // (The relay sees the closes a moment after this side does: retry briefly.)
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closedAt));
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = await health(port, "127.0.0.1").catch(() => 0);
      if (status !== 200) await sleep(50);
    }
    expect(status).toBe(200);
  });

  it("are closed at the header deadline (partial headers, or nothing at all), not ~30 s later", async () => {
    const env = await startEnv({ relay: { headersTimeoutMs: 600 } });
    const port = env.relay.port;
    const t0 = performance.now();
    const partial = await Promise.all(Array.from({ length: 3 }, () => slowLoris(port)));
    const idle = track(connect({ host: "127.0.0.1", port }), (s) => s.destroy());
    idle.on("error", () => {});
    const idleClosed = new Promise<number>((r) => idle.once("close", () => r(performance.now())));
    const closedAt = await withTimeout(
      Promise.all([...partial.map((h) => h.closedAt), idleClosed]),
      3000,
      "pre-upgrade sockets closed by the deadline",
    );
    for (const at of closedAt) {
      expect(at - t0).toBeGreaterThanOrEqual(550);
      expect(at - t0).toBeLessThan(2000);
    }
    // The relay itself is fine afterwards.
    expect(await withTimeout(health(port, "127.0.0.1"), 2000, "/health")).toBe(200);
    await expect(withTimeout(client(env.offer).listAgents(), 3000, "honest ls")).resolves.toBeDefined();
  });
});
