/**
 * What docs/protocol.md §4, §6 and §7 promise a hand-written peer, against a real relay and daemon on 127.0.0.1:
 * how a client ends a session, what the daemon does with messages a client must not send, the largest early
 * request, and the code for a malformed hello (4112, not 4108 or 4100).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concatBytes, fromBase64Url } from "../../src/protocol/encoding.js";
import { decodeClose, encodeClose, encodeStream, MessageType } from "../../src/protocol/frame.js";
import { paseoPrologue, PASEO_NOISE_PROTOCOL } from "../../src/protocol/handshake.js";
import { HandshakeState } from "../../src/protocol/noise/index.js";
import {
  backend,
  closeCode,
  control,
  honestLs,
  rawSession,
  rawSocket,
  relayUrl,
  startEnv,
  teardown,
  withTimeout,
  type Env,
  type RawSession,
} from "./env.js";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
});
afterAll(teardown);

const url = () => relayUrl(env.relay.endpoint, env.offer.serverId);

/** Decrypted CLOSE messages received after the last read one, and the socket's close code. */
async function ending(s: RawSession): Promise<{ encrypted: { code: number; reason: string }[]; socket: number }> {
  const socket = await closeCode(s.sock);
  const encrypted = [];
  for (const bytes of s.sock.received.slice(s.cursor)) {
    const m = s.channel.decrypt(new Uint8Array(bytes));
    if (m?.type === MessageType.CLOSE) encrypted.push(decodeClose(m.body));
  }
  return { encrypted, socket };
}

/** A hello whose Noise message 1 carries `payload` verbatim (not necessarily well framed). */
function helloWithPayload(payload: Uint8Array): Uint8Array {
  const offerId = fromBase64Url(env.offer.offerId)!;
  const hs = new HandshakeState({
    protocolName: PASEO_NOISE_PROTOCOL,
    initiator: true,
    backend,
    prologue: paseoPrologue(env.offer.serverId, offerId),
    rs: fromBase64Url(env.offer.daemonPublicKeyB64)!,
    psks: [fromBase64Url(env.offer.secretB64)!],
  });
  return concatBytes(new Uint8Array([1]), offerId, hs.writeMessage(payload));
}

describe("§4 how a session ends", () => {
  it('client CLOSE → the daemon answers CLOSE 1000 "client closed", then closes the socket with 1000', async () => {
    const s = await rawSession(url(), env.offer);
    s.sendMessage({ type: MessageType.CLOSE, body: encodeClose(1000, "bye") });
    expect(await ending(s)).toEqual({ encrypted: [{ code: 1000, reason: "client closed" }], socket: 1000 });
  });
});

describe("§7 what a client may send after the handshake", () => {
  it.each([
    [
      "a STREAM message",
      { type: MessageType.STREAM, body: encodeStream({ subId: 1, seq: 1, fd: 1, data: new Uint8Array(3) }) },
    ],
    ["a response instead of a request", control({ t: "res", id: 1, ok: true, result: {} })],
    ["CONTROL bytes that are not JSON", { type: MessageType.CONTROL, body: new TextEncoder().encode("{nope") }],
  ] as const)("%s: encrypted CLOSE 4108, then socket close 4108; others are unaffected", async (_what, message) => {
    const s = await rawSession(url(), env.offer);
    s.sendMessage(message);
    expect(await ending(s)).toEqual({ encrypted: [{ code: 4108, reason: expect.any(String) }], socket: 4108 });
    await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  });

  it("a malformed request (unknown method, bad params) gets an error response and the connection stays open", async () => {
    const s = await rawSession(url(), env.offer);
    s.sendMessage(control({ t: "req", id: 1, method: "no.such", params: {} }));
    expect(await s.response(1)).toMatchObject({ ok: false, error: { code: "UNKNOWN_METHOD" } });
    s.sendMessage(control({ t: "req", id: 2, method: "agents.get", params: { id: 5 } }));
    expect(await s.response(2)).toMatchObject({ ok: false, error: { code: "BAD_PARAMS" } });
    s.sendMessage(control({ t: "req", id: 3, method: "ping", params: {} }));
    expect(await s.response(3)).toMatchObject({ ok: true, result: {} });
  });
});

describe("§6 the hello", () => {
  it("the largest early request (65,481 bytes of JSON) is served in the first flight", async () => {
    const head = JSON.stringify({ t: "req", id: 1, method: "agents.list", params: {} });
    const early = {
      type: MessageType.CONTROL,
      body: new TextEncoder().encode(head + " ".repeat(65_481 - head.length)),
    };
    const s = await rawSession(url(), env.offer, { early });
    expect(s.hello.length).toBe(65_548);
    expect(await s.response(1)).toMatchObject({ ok: true, result: [] });
  });

  it.each([
    ["a FIRST chunk without LAST", new Uint8Array([0x01, 0x01, 0, 0, 0, 9, 0x7b])],
    ["a declared length that does not match", new Uint8Array([0x03, 0x01, 0, 0, 0, 9, 0x7b, 0x7d])],
    ["a continuation chunk", new Uint8Array([0x02, 0x7b, 0x7d])],
  ])("message 1 authenticates but its payload is %s: 4112 HELLO_INVALID, not 4100", async (_what, payload) => {
    const sock = await rawSocket(url());
    sock.send(helloWithPayload(payload));
    expect(await closeCode(sock)).toBe(4112);
  });

  it("a hello shorter than 61 bytes: 4112", async () => {
    const sock = await rawSocket(url());
    sock.send(helloWithPayload(new Uint8Array(0)).subarray(0, 60));
    expect(await closeCode(sock)).toBe(4112);
  });

  it("a second message before the daemon's message 2: 4108", async () => {
    const sock = await rawSocket(url());
    sock.send(helloWithPayload(new Uint8Array(0)));
    sock.send(new Uint8Array(40));
    expect(await withTimeout(sock.closed, 5000, "close").then((c) => c.code)).toBe(4108);
  });
});
