/** paseo's NKpsk0 handshake + chunked SecureChannel, across both backends, and the frame codec's refusals. */
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { nobleBackend } from "../../src/protocol/crypto/noble.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import type { CryptoBackend } from "../../src/protocol/crypto/backend.js";
import { ClientHandshake, ServerHandshake, parseHello, HelloError } from "../../src/protocol/handshake.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import {
  MessageType,
  Reassembler,
  encodeChunks,
  FrameError,
  MessageTooLargeError,
  MAX_CHUNK_PLAINTEXT,
  type AppMessage,
} from "../../src/protocol/frame.js";
import { DecryptError } from "../../src/protocol/errors.js";
import { HandshakeError, ChannelFailedError, NoiseMessageTooLargeError } from "../../src/protocol/noise/index.js";
import type { SecureChannel } from "../../src/protocol/secure-channel.js";

function setup(
  clientBackend: CryptoBackend,
  serverBackend: CryptoBackend,
  opts: { psk?: Uint8Array; key?: Uint8Array } = {},
) {
  const staticKey = serverBackend.generateKeyPair();
  const serverId = deriveServerId(serverBackend, staticKey.publicKey);
  const offerId = serverBackend.randomBytes(12);
  const psk = serverBackend.randomBytes(32);
  const client = new ClientHandshake({
    backend: clientBackend,
    serverId,
    daemonPublicKey: opts.key ?? staticKey.publicKey,
    offerId,
    psk: opts.psk ?? psk,
  });
  /** A fresh daemon-side responder for the same daemon key, offer and psk. */
  const newServer = () => new ServerHandshake({ backend: serverBackend, serverId, staticKey, offerId, psk });
  return { client, server: newServer(), newServer, serverId };
}

function establish(clientBackend: CryptoBackend, serverBackend: CryptoBackend) {
  const { client, server } = setup(clientBackend, serverBackend);
  const early: AppMessage = {
    type: MessageType.CONTROL,
    body: new TextEncoder().encode('{"t":"req","id":0,"method":"agents.list","params":{}}'),
  };
  const hello = parseHello(client.hello(early));
  const gotEarly = server.readHello(hello.noiseMessage);
  expect(new TextDecoder().decode(gotEarly!.body)).toContain("agents.list");
  const welcome: AppMessage = { type: MessageType.CONTROL, body: new TextEncoder().encode('{"t":"welcome"}') };
  const { message, channel: serverChannel } = server.reply(welcome);
  const { channel: clientChannel, welcome: gotWelcome } = client.readReply(message);
  expect(gotWelcome!.body).toEqual(welcome.body);
  return { clientChannel, serverChannel };
}

function pump(from: SecureChannel, to: SecureChannel, message: AppMessage): AppMessage {
  const wire = from.encrypt(message);
  let out: AppMessage | undefined;
  for (const m of wire) {
    expect(m.length).toBeLessThanOrEqual(65535);
    const got = to.decrypt(m);
    if (got) out = got;
  }
  return out!;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const pairs: [string, CryptoBackend, CryptoBackend][] = [
  ["noble → native", nobleBackend, nativeBackend],
  ["native → noble", nativeBackend, nobleBackend],
  ["native → native", nativeBackend, nativeBackend],
];

describe.each(pairs)("NKpsk0 + SecureChannel %s", (_name, clientBackend, serverBackend) => {
  it("completes the handshake and exchanges 1 MiB each way in chunked messages", () => {
    const { clientChannel, serverChannel } = establish(clientBackend, serverBackend);
    const up = nativeBackend.randomBytes(1024 * 1024);
    const down = nativeBackend.randomBytes(1024 * 1024);
    const wire = clientChannel.encrypt({ type: MessageType.STREAM, body: up });
    expect(wire.length).toBe(Math.ceil((up.length + 6) / MAX_CHUNK_PLAINTEXT) + 0);
    let got: AppMessage | undefined;
    for (const m of wire) got = serverChannel.decrypt(m) ?? got;
    expect(sha(got!.body)).toBe(sha(up));
    expect(sha(pump(serverChannel, clientChannel, { type: MessageType.STREAM, body: down }).body)).toBe(sha(down));
  });
});

describe("channel failures are named and fatal", () => {
  it("replayed, swapped and reflected transport messages fail to decrypt, then the channel is dead", () => {
    for (const attack of ["replay", "swap", "reflect"] as const) {
      const { clientChannel, serverChannel } = establish(nativeBackend, nativeBackend);
      const a = clientChannel.encrypt({ type: MessageType.CONTROL, body: new Uint8Array([1]) })[0]!;
      const b = clientChannel.encrypt({ type: MessageType.CONTROL, body: new Uint8Array([2]) })[0]!;
      if (attack === "replay") {
        serverChannel.decrypt(a);
        expect(() => serverChannel.decrypt(a)).toThrow(DecryptError);
      } else if (attack === "swap") {
        expect(() => serverChannel.decrypt(b)).toThrow(DecryptError);
      } else {
        expect(() => clientChannel.decrypt(a)).toThrow(DecryptError);
      }
      expect(() => serverChannel.decrypt(b)).toThrow(attack === "reflect" ? DecryptError : ChannelFailedError);
    }
  });

  it("a flipped bit anywhere in message 1 or 2 fails the handshake with a named error", () => {
    const { client, newServer } = setup(nativeBackend, nativeBackend);
    const hello = parseHello(client.hello());
    expect(() => newServer().readHello(hello.noiseMessage)).not.toThrow(); // the genuine hello is accepted
    for (let i = 0; i < hello.noiseMessage.length; i++) {
      const bad = hello.noiseMessage.slice();
      bad[i]! ^= 0x01;
      expect(() => newServer().readHello(bad), `bit flip at byte ${i}`).toThrow(HandshakeError);
    }
    const server = newServer();
    server.readHello(hello.noiseMessage);
    const { message } = server.reply({ type: MessageType.CONTROL, body: new Uint8Array([1]) });
    const bad = message.slice();
    bad[40]! ^= 0x80;
    expect(() => client.readReply(bad)).toThrow(HandshakeError);
  });

  it("a wrong pairing secret or a wrong daemon key fails at the daemon with HandshakeError", () => {
    const wrongPsk = setup(nativeBackend, nativeBackend, { psk: nativeBackend.randomBytes(32) });
    expect(() => wrongPsk.server.readHello(parseHello(wrongPsk.client.hello()).noiseMessage)).toThrow(HandshakeError);
    const wrongKey = setup(nativeBackend, nativeBackend, { key: nativeBackend.generateKeyPair().publicKey });
    expect(() => wrongKey.server.readHello(parseHello(wrongKey.client.hello()).noiseMessage)).toThrow(HandshakeError);
  });

  it("an oversized Noise message is refused before decryption", () => {
    const { serverChannel } = establish(nativeBackend, nativeBackend);
    expect(() => serverChannel.decrypt(new Uint8Array(65536))).toThrow(NoiseMessageTooLargeError);
  });

  it("hello with another version byte or truncated is refused with its own error", () => {
    expect(() => parseHello(new Uint8Array([2, ...new Uint8Array(80)]))).toThrow(
      expect.objectContaining({ name: HelloError.name, code: "UNSUPPORTED_VERSION" }),
    );
    expect(() => parseHello(new Uint8Array([1, 2, 3]))).toThrow(/truncated/);
  });
});

describe("frame codec", () => {
  it("round-trips messages of many sizes across chunk boundaries", () => {
    for (const size of [0, 1, 100, MAX_CHUNK_PLAINTEXT - 6, MAX_CHUNK_PLAINTEXT - 5, 200_000]) {
      const body = nativeBackend.randomBytes(size);
      const r = new Reassembler();
      let got: AppMessage | undefined;
      for (const c of encodeChunks({ type: MessageType.STREAM, body })) got = r.push(c) ?? got;
      expect(sha(got!.body)).toBe(sha(body));
    }
  });

  it("refuses a declared length above the maximum (before allocating it)", () => {
    const [first] = encodeChunks({ type: MessageType.CONTROL, body: new Uint8Array(10) });
    new DataView(first!.buffer).setUint32(2, 0xffffffff);
    expect(() => new Reassembler(1024).push(first!)).toThrow(MessageTooLargeError);
  });

  it("refuses truncated, interleaved, over-long and unknown chunks", () => {
    const chunks = encodeChunks({ type: MessageType.CONTROL, body: new Uint8Array(100_000) });
    const r1 = new Reassembler();
    r1.push(chunks[0]!);
    expect(() => r1.push(chunks[0]!)).toThrow(FrameError); // new FIRST while in progress
    expect(() => new Reassembler().push(chunks[1]!)).toThrow(FrameError); // continuation without start
    const truncated = chunks[1]!.slice();
    truncated[0] = 0x02; // LAST too early
    const r2 = new Reassembler();
    r2.push(chunks[0]!);
    expect(() => r2.push(truncated.subarray(0, 100))).toThrow(/truncated/);
    expect(() => new Reassembler().push(new Uint8Array([0x03, 9, 0, 0, 0, 0]))).toThrow(/unknown message type/);
    expect(() => new Reassembler().push(new Uint8Array([0x43]))).toThrow(/flags/);
    expect(() => new Reassembler().push(new Uint8Array([0x03, 1, 0, 0]))).toThrow(/truncated/);
  });
});
