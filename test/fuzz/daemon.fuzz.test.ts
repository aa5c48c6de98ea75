/**
 * Fuzz a live daemon through a real relay: random hellos, and — after a genuine handshake — authenticated but
 * random chunk plaintexts and mutated requests (so the bytes get past the AEAD and reach the reassembler, the
 * control decoder and the parameter validator). The daemon answers with error replies or closes that one
 * connection with a daemon code; it never crashes, and an honest client is served after every input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { CipherState } from "../../src/protocol/noise/index.js";
import { decodeControl, encodeControl } from "../../src/protocol/rpc.js";
import { MessageType } from "../../src/protocol/frame.js";
import {
  honestLs,
  rawSession,
  rawSocket,
  relayUrl,
  startEnv,
  teardown,
  withTimeout,
  type Env,
} from "../hostile/env.js";
import { mutated } from "./fuzz-helpers.js";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ relay: { perIpRatePerSecond: 10_000, perIpMaxConnections: 10_000 } });
});
afterAll(teardown);

const url = () => relayUrl(env.relay.endpoint, env.offer.serverId);
const ALLOWED_CLOSES = new Set([1000, 4100, 4101, 4108, 4109, 4111, 4112]);

/** Wait until the socket closes or goes quiet; return the close code (undefined = still open and idle). */
async function settle(sock: Awaited<ReturnType<typeof rawSocket>>, quietMs = 30): Promise<number | undefined> {
  let seen = -1;
  for (let i = 0; i < 50; i++) {
    if (sock.closeInfo) return sock.closeInfo.code;
    if (sock.received.length === seen) return undefined;
    seen = sock.received.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
  return sock.closeInfo?.code;
}

describe("live daemon", () => {
  it("random hellos: closed with a daemon code", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (hello) => {
        const sock = await rawSocket(url());
        sock.send(hello);
        const code = await withTimeout(sock.closed, 3000, "daemon closes a random hello").then((c) => c.code);
        expect(ALLOWED_CLOSES.has(code), `close ${code}`).toBe(true);
        sock.ws.terminate();
      }),
      { numRuns: 40 },
    );
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("authenticated random chunks and mutated requests: error replies or a daemon close code, never a crash", async () => {
    const readOnly = fc
      .record({
        id: fc.nat({ max: 1000 }),
        method: fc.constantFrom(
          "agents.list",
          "server.info",
          "agents.get",
          "agents.logs",
          "agents.unsubscribe",
          "no.such",
        ),
      })
      .map((r) => encodeControl({ t: "req", id: r.id, method: r.method, params: { id: "zz", sub: 1 } }));
    /** One FIRST|LAST chunk carrying `body` as a CONTROL message. */
    const chunk = (body: Uint8Array) => {
      const out = new Uint8Array(6 + body.length);
      out[0] = 3;
      out[1] = MessageType.CONTROL;
      new DataView(out.buffer).setUint32(2, body.length);
      out.set(body, 6);
      return out;
    };
    const plaintexts = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 60 }), // raw chunk bytes: flags/type/length all random
        readOnly.map(chunk), // a well-framed request
        mutated(readOnly.map(chunk)), // a mis-framed or corrupted request
        mutated(readOnly).map(chunk), // a well-framed message with corrupted JSON
      ),
      { minLength: 1, maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(plaintexts, async (list) => {
        const s = await rawSession(url(), env.offer);
        const send = (s.channel as unknown as { sendState: CipherState }).sendState;
        for (const p of list) s.sock.send(send.encryptWithAd(new Uint8Array(0), p));
        const code = await settle(s.sock);
        if (code !== undefined) expect(ALLOWED_CLOSES.has(code), `close ${code}`).toBe(true);
        else {
          // Still open: everything it sent back must be decryptable, well-formed replies.
          for (let i = s.cursor; i < s.sock.received.length; i++) {
            const m = s.channel.decrypt(new Uint8Array(s.sock.received[i]!));
            if (m && m.type === MessageType.CONTROL) expect(["res", "evt"]).toContain(decodeControl(m.body).t);
          }
        }
        s.sock.ws.terminate();
      }),
      { numRuns: 60 },
    );
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
    expect(env.daemon.relayStatus!.state).toBe("connected");
    expect(env.daemon.relayStatus!.reconnects).toBe(0);
  });
});
