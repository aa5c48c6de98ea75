/** Daemon defences, in-process against a real relay and real sockets on 127.0.0.1. */
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { startMitm } from "../hostile/mitm-proxy.js";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/daemon/logger.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import { startRelay, type Relay } from "../../src/relay/index.js";
import { DaemonClient, RpcError, OfferExpiredError } from "../../src/index.js";
import { createPairing } from "../../src/daemon/pairing.js";
import { buildRelayUrl } from "../../src/protocol/relay-url.js";
import { CloseCode } from "../../src/protocol/close-codes.js";
import { connect } from "../../src/client/connect.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { WebSocket as WsCtor } from "ws";
import type { WebSocketConstructor } from "../../src/client/transport.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), "paseo-limits-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
async function daemonWithRelay(
  options: Partial<Parameters<typeof startDaemon>[0]> = {},
): Promise<{ daemon: Daemon; relay: Relay }> {
  const relay = await startRelay({ host: "127.0.0.1", port: 0, log: () => {} });
  cleanups.push(() => relay.close());
  const daemon = await startDaemon({ home: home(), relay: relay.endpoint, log: silentLogger, ...options });
  cleanups.push(() => daemon.close());
  return { daemon, relay };
}
function closeOf(ws: WebSocket): Promise<{ code: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve) => ws.on("close", (code) => resolve({ code, ms: performance.now() - t })));
}

describe("relay link", () => {
  it("stops retrying when the relay rejects the daemon's key (no retry loop)", async () => {
    // The real relay, behind a proxy that swaps the relay's challenge key for another valid one: the daemon's proof
    // is then computed for the wrong key, and the real relay's verifyAuth refuses it with 4003.
    const relay = await startRelay({ host: "127.0.0.1", port: 0, log: () => {} });
    cleanups.push(() => relay.close());
    const proxy = await startMitm(relay.endpoint, (frame) => {
      if (frame.conn.role !== "server" || frame.dir !== "down" || frame.index !== 0) return "forward";
      const swapped = Uint8Array.from(frame.data);
      swapped.set(nativeBackend.generateKeyPair().publicKey, 1); // CHALLENGE = 0x01 ‖ E_r ‖ nonce
      return { replace: swapped };
    });
    cleanups.push(() => proxy.close());
    const daemon = await startDaemon({ home: home(), relay: proxy.endpoint, log: silentLogger, pairOnStart: false });
    cleanups.push(() => daemon.close());
    await new Promise((r) => setTimeout(r, 2500)); // several backoff periods (min 0.5 s)
    expect(proxy.conns.filter((c) => c.role === "server")).toHaveLength(1);
    expect(proxy.conns[0]!.closedByRelay?.code).toBe(CloseCode.AUTH_FAILED);
    expect(daemon.relayStatus?.state).toBe("rejected");
    expect(daemon.relayStatus?.lastError).toMatch(/rejected this daemon's key proof/);
  });
});

describe("per-client limits", () => {
  it("a handshake timeout frees the slot; a newcomer to a full table takes the oldest silent slot (BUSY)", async () => {
    const { daemon } = await daemonWithRelay({ maxConcurrentHandshakes: 2, handshakeTimeoutMs: 600 });
    const offer = await readLocalOffer(daemon.home);
    const url = buildRelayUrl(offer!.relay, "client", offer!.serverId);
    const open = () => {
      const ws = new WebSocket(url);
      cleanups.push(() => ws.terminate());
      return ws;
    };
    const a = open();
    const b = open();
    await Promise.all([a, b].map((ws) => new Promise((r) => ws.on("open", r))));
    await new Promise((r) => setTimeout(r, 50));
    // Silent connections cannot hold the table against a newcomer: the oldest one gives way with 4105.
    const c = open();
    expect((await closeOf(a)).code).toBe(CloseCode.BUSY);
    const [cb, cc] = await Promise.all([closeOf(b), closeOf(c)]);
    expect(cb.code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
    expect(cc.code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
    const client = new DaemonClient({ offer: offer!, url });
    cleanups.push(() => client.close());
    expect(await client.listAgents()).toEqual([]);
  });

  it("a malformed or unknown request gets an error reply and the daemon keeps serving", async () => {
    const { daemon } = await daemonWithRelay();
    const client = new DaemonClient({ offer: daemon.pairing!.offer });
    cleanups.push(() => client.close());
    await client.connect();
    const call = client.call.bind(client) as (m: string, p: unknown) => Promise<unknown>;
    await expect(call("agents.nuke", {})).rejects.toMatchObject({ code: "UNKNOWN_METHOD" });
    await expect(call("agents.run", { argv: "rm -rf /" })).rejects.toBeInstanceOf(RpcError);
    await expect(call("agents.run", { argv: ["x"], evil: true })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(call("agents.get", { id: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // A `since` past the end is refused in the response itself (a following iterator must not wait forever).
    const agent = await client.runAgent({ argv: [process.execPath, "-e", "console.log('one')"] });
    const drain = async (since: number, follow: boolean) => {
      for await (const _ of client.logs(agent.id, { since, follow })) void _;
    };
    await expect(drain(999, true)).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(drain(999, false)).rejects.toMatchObject({ code: "BAD_PARAMS" });
    expect((await client.listAgents({ all: true })).map((a) => a.id)).toEqual([agent.id]);
  });

  it("early data carries only read-only requests: a non-read-only early request is refused, not executed", async () => {
    const { daemon } = await daemonWithRelay();
    const { session, early } = await connect({
      daemon: daemon.pairing!.offer,
      auth: { kind: "offer", offer: daemon.pairing!.offer },
      backend: nativeBackend,
      WebSocket: WsCtor as unknown as WebSocketConstructor,
      early: { method: "agents.run", params: { argv: [process.execPath, "-e", "0"] } },
      timeoutMs: 5000,
    });
    await expect(early).rejects.toMatchObject({ code: "EARLY_DATA_REJECTED" });
    session.close();
    const client = new DaemonClient({ offer: daemon.pairing!.offer });
    cleanups.push(() => client.close());
    expect(await client.listAgents({ all: true })).toEqual([]);
  });
});

describe("offer refusals at the daemon", () => {
  it("an offer that expired is refused by the daemon's handshake (4102 → OfferExpiredError), even if the client skips its own check", async () => {
    const { daemon, relay } = await daemonWithRelay();
    const pairing = await createPairing({ home: daemon.home, relay: relay.endpoint, ttlMs: 1000 });
    await new Promise((r) => setTimeout(r, 1100));
    const client = new DaemonClient({ offer: pairing.offer }); // an object: no client-side parse/expiry check
    cleanups.push(() => client.close());
    await expect(client.listAgents()).rejects.toBeInstanceOf(OfferExpiredError);
  });
});
