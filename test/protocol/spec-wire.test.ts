/**
 * docs/protocol.md §6–§7 statements a peer in another language relies on, checked byte for byte against
 * independent primitives (node:crypto ChaCha20-Poly1305, the bare Noise HandshakeState) instead of paseo's own
 * framing helpers: message 2's payload framing, the early-data size limit, and that rekey keeps the nonce counter.
 */
import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nativeBackend as backend } from "../../src/protocol/crypto/native.js";
import { MessageType } from "../../src/protocol/frame.js";
import {
  ClientHandshake,
  MAX_HANDSHAKE_PAYLOAD,
  paseoPrologue,
  PASEO_NOISE_PROTOCOL,
  ServerHandshake,
} from "../../src/protocol/handshake.js";
import { CipherState, HandshakeState } from "../../src/protocol/noise/index.js";
import { SecureChannel } from "../../src/protocol/secure-channel.js";

const serverId = "a".repeat(26);
const offerId = new Uint8Array(12).fill(7);
const psk = new Uint8Array(32).fill(9);
const daemonKey = backend.generateKeyPair();
const control = (json: string) => ({ type: MessageType.CONTROL, body: new TextEncoder().encode(json) });

function pair() {
  const client = new ClientHandshake({ backend, serverId, daemonPublicKey: daemonKey.publicKey, offerId, psk });
  const server = new ServerHandshake({ backend, serverId, staticKey: daemonKey, offerId, psk });
  return { client, server };
}

describe("§6 handshake payloads", () => {
  it("message 2's payload is one FIRST|LAST CONTROL chunk: 03 01 <u32 length> <welcome JSON>", () => {
    // A bare initiator, as a foreign client would write it: it sees the decrypted payload bytes unframed.
    const initiator = new HandshakeState({
      protocolName: PASEO_NOISE_PROTOCOL,
      initiator: true,
      backend,
      prologue: paseoPrologue(serverId, offerId),
      rs: daemonKey.publicKey,
      psks: [psk],
    });
    const server = new ServerHandshake({ backend, serverId, staticKey: daemonKey, offerId, psk });
    expect(server.readHello(initiator.writeMessage(new Uint8Array(0)))).toBeUndefined();
    const welcome = JSON.stringify({ t: "welcome", server: { serverId } });
    const payload = initiator.readMessage(server.reply(control(welcome)).message);
    const json = new TextEncoder().encode(welcome);
    expect(payload[0]).toBe(0x03); // FIRST | LAST
    expect(payload[1]).toBe(0x01); // CONTROL
    expect(new DataView(payload.buffer, payload.byteOffset).getUint32(2)).toBe(json.length); // big-endian
    expect(new TextDecoder().decode(payload.subarray(6))).toBe(welcome);
  });

  it("early data: one chunk of at most 65,487 bytes, i.e. a request of at most 65,481 bytes of JSON", () => {
    expect(MAX_HANDSHAKE_PAYLOAD).toBe(65_487);
    const request = (size: number) => {
      const head = '{"t":"req","id":1,"method":"agents.list","params":{}}';
      return control(head + " ".repeat(size - head.length)); // JSON allows trailing whitespace
    };
    const fits = pair();
    const hello = fits.client.hello(request(65_481));
    expect(hello.length).toBe(1 + 12 + 65_535); // the largest hello: a full Noise message
    expect(new TextDecoder().decode(fits.server.readHello(hello.subarray(13))!.body).length).toBe(65_481);
    expect(() => pair().client.hello(request(65_482))).toThrow(/does not fit one Noise message|exceeds/);
  });
});

describe("§7 rekey", () => {
  it("after 65,536 messages the key becomes REKEY(k) and the counter goes on at 65,536 (it is not reset)", () => {
    const k = new Uint8Array(32).map((_, i) => i + 1);
    const cipher = () => {
      const c = new CipherState(backend);
      c.initializeKey(k);
      return c;
    };
    const channel = new SecureChannel(cipher(), cipher());
    const message = control("{}");
    let last: Uint8Array | undefined;
    for (let i = 0; i <= 65_536; i++) last = channel.encrypt(message)[0]!;

    const nonce = (n: bigint) => {
      const out = Buffer.alloc(12);
      out.writeBigUInt64LE(n, 4);
      return out;
    };
    const chacha = (key: Uint8Array, n: bigint, plaintext: Uint8Array) => {
      const c = createCipheriv("chacha20-poly1305", key, nonce(n), { authTagLength: 16 });
      c.setAAD(Buffer.alloc(0), { plaintextLength: plaintext.length });
      return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    };
    const rekeyed = chacha(k, 2n ** 64n - 1n, new Uint8Array(32)).subarray(0, 32);
    const chunk = new Uint8Array([0x03, 0x01, 0, 0, 0, 2, 0x7b, 0x7d]); // FIRST|LAST, CONTROL, length 2, "{}"
    expect(Buffer.from(last!)).toEqual(chacha(rekeyed, 65_536n, chunk));
    expect(Buffer.from(last!)).not.toEqual(chacha(rekeyed, 0n, chunk));
  });
});
