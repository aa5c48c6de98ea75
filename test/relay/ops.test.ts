import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connect as tcpConnect } from "node:net";
import { WebSocket } from "ws";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { CONTENT_SECURITY_POLICY } from "../../src/relay/index.js";
import { PASEO_VERSION } from "../../src/version.js";
import {
  TestClient,
  TestDaemon,
  cleanup,
  closeCodeOf,
  describeRelays,
  expectStats,
  relayFor,
  waitUntil,
  wsUrl,
} from "./helpers.js";

const dirs: string[] = [];
afterEach(async () => {
  await cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeRelays("relay operations", (_kind, caps) => {
  it("GET /health reports status, uptime, daemons, clients and version", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    await TestClient.connect(relay, daemon.serverId);
    await waitUntil(() => daemon.clientIds.length === 1, "OPEN");
    // The Worker relay's counters arrive batched (~100 ms): poll.
    await vi.waitFor(
      async () => {
        const res = await fetch(`${relay.url}/health`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body).toMatchObject({ status: "ok", daemons: 1, clients: 1, version: PASEO_VERSION });
        expect(typeof body.uptime).toBe("number");
      },
      { timeout: 5000, interval: 50 },
    );
  });

  it("GET /metrics exposes connections by role, bytes, frames and closes by code (no serverIds)", async () => {
    const relay = await relayFor();
    const daemon = await TestDaemon.connect(relay);
    daemon.echo = true;
    const client = await TestClient.connect(relay, daemon.serverId);
    client.send(Buffer.alloc(1000));
    await waitUntil(() => client.bytes === 1000, "echo");
    client.send("text"); // -> 4000
    await client.closed;
    await expectStats(relay, (s) => {
      expect(s.connections.client).toBe(0);
      expect(s.closesSent[4000]).toBe(1);
    });
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('paseo_relay_connections{role="server"} 1');
    expect(text).toContain('paseo_relay_connections{role="client"} 0');
    expect(text).toContain('paseo_relay_connections_total{role="client"} 1'); // gone, but counted
    expect(text).toContain('paseo_relay_bytes_in_total{role="client"} 1004');
    expect(text).toContain('paseo_relay_bytes_out_total{role="client"} 1000');
    expect(text).toMatch(/paseo_relay_frames_in_total\{role="server"\} \d+/);
    expect(text).toContain('paseo_relay_closes_sent_total{code="4000",name="BAD_REQUEST"} 1');
    expect(text).toContain("paseo_relay_daemons 1");
    expect(text).not.toContain(daemon.serverId);
    const stats = await relay.stats();
    expect(stats.bytesIn.client).toBe(1004);
    expect(stats.framesOut.client).toBe(1);
  });

  it("without staticDir, / is a small text page with the security headers; other paths 404", async () => {
    const relay = await relayFor();
    const res = await fetch(`${relay.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await res.text()).toContain("paseo relay");
    expect((await fetch(`${relay.url}/app.js`)).status).toBe(404);
    expect((await fetch(`${relay.url}/v1/ws`)).status).toBe(426);
    expect((await fetch(`${relay.url}/health`, { method: "POST" })).status).toBe(405);
  });

  // A Worker relay is stopped by Cloudflare (a deploy or eviction closes its sockets), not by a close() of its own:
  // the 4009 shutdown sequence is the Node relay's.
  it.runIf(caps.gracefulClose)(
    "close() ends every socket with 4009 (daemons, clients, pending and unauthenticated ones)",
    async () => {
      const relay = await relayFor({ offlineGraceMs: 500 });
      const daemon = await TestDaemon.connect(relay);
      const clients = [
        await TestClient.connect(relay, daemon.serverId),
        await TestClient.connect(relay, daemon.serverId),
      ];
      await waitUntil(() => daemon.clientIds.length === 2, "OPENs");
      const pending = await TestClient.connect(relay, "b".repeat(26));
      const unauth = new WebSocket(wsUrl(relay, "server", "c".repeat(26)));
      const unauthClosed = closeCodeOf(unauth);
      await new Promise((r) => unauth.once("message", r));

      const started = Date.now();
      await relay.close();
      expect(Date.now() - started).toBeLessThan(2500);
      for (const c of [...clients, pending]) expect((await c.closed).code).toBe(CloseCode.RELAY_RESTARTING);
      expect((await daemon.closed).code).toBe(CloseCode.RELAY_RESTARTING);
      expect(await unauthClosed).toBe(CloseCode.RELAY_RESTARTING);
      // The daemon saw its clients leave with 4009 too, not a 4002 cascade.
      for (const id of daemon.clientIds) expect(daemon.clients.get(id)!.closed?.code).toBe(CloseCode.RELAY_RESTARTING);
      await expect(fetch(`${relay.url}/health`)).rejects.toThrow();
      await relay.close(); // idempotent
    },
  );
});

// Options of a relay process that listens on a port (static app, public URL, its own HTTP parser, listen errors):
// the Worker relay has none of them (Cloudflare serves its HTTP; docs/relay-worker.md).
describe("Node relay operations", () => {
  it("a staticDir that is not a directory is refused at start (not a 500 on every request)", async () => {
    const { startRelay } = await import("../../src/relay/index.js");
    await expect(startRelay({ port: 0, serveApp: true, staticDir: "/nonexistent-paseo-app" })).rejects.toMatchObject({
      code: "RELAY_CONFIG",
    });
  });

  it("a malformed request target gets 400 and the relay keeps serving (it used to crash the process)", async () => {
    const relay = await relayFor();
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = tcpConnect(relay.port, "127.0.0.1", () => sock.write("GET //[ HTTP/1.1\r\nHost: x\r\n\r\n"));
      let out = "";
      sock.on("data", (d) => {
        out += d.toString();
        if (out.includes("\r\n\r\n")) sock.destroy();
      });
      sock.on("close", () => resolve(out));
      sock.on("error", reject);
      setTimeout(() => reject(new Error("no answer")), 3000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
  });

  it("with serveApp, serves the app's files with content types and a strict CSP, and nothing else", async () => {
    const root = mkdtempSync(join(tmpdir(), "paseo-relay-static-"));
    dirs.push(root);
    const site = join(root, "site");
    mkdirSync(join(site, "assets"), { recursive: true });
    writeFileSync(join(site, "index.html"), "<!doctype html><title>paseo</title>");
    writeFileSync(join(site, "assets", "app.js"), "console.log(1)");
    writeFileSync(join(site, "assets", "app.css"), "body{}");
    writeFileSync(join(root, "secret.txt"), "do not serve");
    symlinkSync(join(root, "secret.txt"), join(site, "link.txt"));
    const relay = await relayFor({ serveApp: true, staticDir: site });

    const index = await fetch(`${relay.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("content-security-policy")).toBe(
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(index.headers.get("referrer-policy")).toBe("no-referrer");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await index.text()).toContain("<title>paseo</title>");
    const js = await fetch(`${relay.url}/assets/app.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe("console.log(1)");
    expect((await fetch(`${relay.url}/assets/app.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");

    expect((await fetch(`${relay.url}/missing.js`)).status).toBe(404);
    expect((await fetch(`${relay.url}/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${relay.url}/..%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${relay.url}/link.txt`)).status).toBe(404);
    // /health and the WebSocket path still work next to the app.
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
  });

  it("reports the public endpoint when publicUrl is set", async () => {
    const relay = await relayFor({ publicUrl: "https://relay.example.com" });
    expect(relay.endpoint).toEqual({ endpoint: "relay.example.com:443", tls: true });
    expect(relay.wsUrlBase).toBe("wss://relay.example.com:443");
    expect(relay.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(relayFor({ publicUrl: "https://relay.example.com/some/path" })).rejects.toThrow(/no path/);
    await expect(relayFor({ offlineGraceMs: 2000 })).rejects.toMatchObject({ code: "RELAY_CONFIG" });
    await expect(relayFor({ port: (await relayFor()).port })).rejects.toMatchObject({ code: "RELAY_LISTEN" });
  });
});
