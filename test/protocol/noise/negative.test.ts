/**
 * Negative tests for paseo's handshake, Noise_NKpsk0_25519_ChaChaPoly_SHA256, on both backends: every tampering,
 * replay, reordering, reflection, wrong secret/key, low-order key, size and state violation ends in a named error.
 */
import { describe, expect, it } from "vitest";
import type { CryptoBackend, KeyPair } from "../../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../../src/protocol/crypto/noble.js";
import { fromHex, utf8 } from "../../../src/protocol/encoding.js";
import { DecryptError, LowOrderPointError } from "../../../src/protocol/errors.js";
import {
  ChannelFailedError,
  HandshakeError,
  HandshakeState,
  MAX_NOISE_MESSAGE,
  NoiseMessageTooLargeError,
  NoiseStateError,
  NonceExhaustedError,
  TruncatedMessageError,
  type TransportStates,
} from "../../../src/protocol/noise/index.js";
import { lowOrderPoints } from "../shared-vectors.js";

const PROTOCOL = "Noise_NKpsk0_25519_ChaChaPoly_SHA256";
const EMPTY = new Uint8Array(0);
const MAX_NONCE = (1n << 64n) - 1n;

// Low-order / zero-result public keys, taken from the Wycheproof cases whose shared secret is all zero.
const LOW_ORDER = lowOrderPoints();

function flip(bytes: Uint8Array, index: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= mask;
  return copy;
}

function fixedPair(backend: CryptoBackend, byte: number): KeyPair {
  const secretKey = new Uint8Array(32).fill(byte);
  return { secretKey, publicKey: backend.publicKeyOf(secretKey) };
}

describe.each([nobleBackend, nativeBackend])("NKpsk0 negative cases on the $name backend", (backend) => {
  // Fixed keys make every run produce the same bytes, so tampered copies can be fed to fresh states.
  const server = fixedPair(backend, 0x11);
  const clientE = fixedPair(backend, 0x22);
  const serverE = fixedPair(backend, 0x33);
  const psk = new Uint8Array(32).fill(0x44);
  const prologue = utf8("paseo/1\0test-server\0offer-id-012");
  const earlyPayload = utf8("early request, read-only");
  const welcome = utf8("welcome");

  const initiator = (o: { psk?: Uint8Array; rs?: Uint8Array; prologue?: Uint8Array; e?: KeyPair } = {}) =>
    new HandshakeState({
      protocolName: PROTOCOL,
      initiator: true,
      backend,
      prologue: o.prologue ?? prologue,
      rs: o.rs ?? server.publicKey,
      e: o.e ?? clientE,
      psks: [o.psk ?? psk],
    });
  const responder = (o: { psk?: Uint8Array } = {}) =>
    new HandshakeState({
      protocolName: PROTOCOL,
      initiator: false,
      backend,
      prologue,
      s: server,
      e: serverE,
      psks: [o.psk ?? psk],
    });

  function handshake(): {
    init: HandshakeState;
    resp: HandshakeState;
    m1: Uint8Array;
    m2: Uint8Array;
    i: TransportStates;
    r: TransportStates;
  } {
    const init = initiator();
    const resp = responder();
    const m1 = init.writeMessage(earlyPayload);
    expect(resp.readMessage(m1)).toEqual(earlyPayload);
    const m2 = resp.writeMessage(welcome);
    expect(init.readMessage(m2)).toEqual(welcome);
    return { init, resp, m1, m2, i: init.split(), r: resp.split() };
  }

  const { m1, m2 } = handshake();

  it("completes and agrees on the handshake hash (baseline)", () => {
    const { init, resp, i, r } = handshake();
    expect(init.handshakeHash()).toEqual(resp.handshakeHash());
    expect(r.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, utf8("ping")))).toEqual(utf8("ping"));
    expect(i.recv.decryptWithAd(EMPTY, r.send.encryptWithAd(EMPTY, utf8("pong")))).toEqual(utf8("pong"));
  });

  it("a flipped bit in any byte of message 1 fails with HandshakeError at the responder", () => {
    for (let pos = 0; pos < m1.length; pos++) {
      for (const mask of [0x01, 0x80]) {
        const resp = responder();
        let caught: unknown;
        try {
          resp.readMessage(flip(m1, pos, mask));
        } catch (err) {
          caught = err;
        }
        expect(caught, `byte ${pos} mask ${mask}`).toBeInstanceOf(HandshakeError);
        expect((caught as HandshakeError).code).toBe("HANDSHAKE_FAILED");
        expect((caught as HandshakeError).cause).toBeInstanceOf(DecryptError);
        expect(() => resp.writeMessage(EMPTY)).toThrow(NoiseStateError); // unusable after a failure
      }
    }
  });

  it("a flipped bit in any byte of message 2 fails with HandshakeError at the initiator", () => {
    for (let pos = 0; pos < m2.length; pos++) {
      for (const mask of [0x01, 0x80]) {
        const init = initiator();
        init.writeMessage(earlyPayload);
        expect(() => init.readMessage(flip(m2, pos, mask)), `byte ${pos} mask ${mask}`).toThrow(HandshakeError);
        expect(() => init.split()).toThrow(NoiseStateError);
      }
    }
  });

  it("a flipped bit in any byte of a transport message fails with DecryptError and poisons the channel", () => {
    const plaintext = utf8("a transport message of some length");
    const genuine = handshake().i.send.encryptWithAd(EMPTY, plaintext);
    for (let pos = 0; pos < genuine.length; pos++) {
      const { r } = handshake();
      expect(() => r.recv.decryptWithAd(EMPTY, flip(genuine, pos, 1 << (pos % 8))), `byte ${pos}`).toThrow(
        DecryptError,
      );
      expect(r.recv.isFailed).toBe(true);
      // Not even the genuine message is accepted afterwards: no nonce is retried after a failure.
      expect(() => r.recv.decryptWithAd(EMPTY, genuine)).toThrow(ChannelFailedError);
    }
  });

  it("a replayed transport message fails with DecryptError, then ChannelFailedError", () => {
    const { i, r } = handshake();
    const t0 = i.send.encryptWithAd(EMPTY, utf8("one"));
    const t1 = i.send.encryptWithAd(EMPTY, utf8("two"));
    expect(r.recv.decryptWithAd(EMPTY, t0)).toEqual(utf8("one"));
    expect(() => r.recv.decryptWithAd(EMPTY, t0)).toThrow(DecryptError);
    expect(r.recv.nonce).toBe(1n); // the failed decrypt did not advance the nonce
    expect(() => r.recv.decryptWithAd(EMPTY, t1)).toThrow(ChannelFailedError);
    expect(() => r.recv.encryptWithAd(EMPTY, EMPTY)).toThrow(ChannelFailedError);
  });

  it("two swapped transport messages fail", () => {
    const { i, r } = handshake();
    const t0 = i.send.encryptWithAd(EMPTY, utf8("first"));
    const t1 = i.send.encryptWithAd(EMPTY, utf8("second"));
    expect(() => r.recv.decryptWithAd(EMPTY, t1)).toThrow(DecryptError);
    expect(() => r.recv.decryptWithAd(EMPTY, t0)).toThrow(ChannelFailedError);
  });

  it("a party's own ciphertext reflected back to it fails", () => {
    const { i, r } = handshake();
    expect(() => i.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, utf8("mine")))).toThrow(DecryptError);
    expect(() => r.recv.decryptWithAd(EMPTY, r.send.encryptWithAd(EMPTY, utf8("mine")))).toThrow(DecryptError);
    // Handshake reflection: the initiator's message 1 fed back as message 2.
    const init = initiator();
    const own = init.writeMessage(earlyPayload);
    expect(() => init.readMessage(own)).toThrow(HandshakeError);
  });

  it("a wrong psk fails message 1 with HandshakeError (cause DecryptError)", () => {
    const wrongPsk = psk.slice();
    wrongPsk[31]! ^= 1;
    const message = initiator({ psk: wrongPsk }).writeMessage(earlyPayload);
    const err = (() => {
      try {
        responder().readMessage(message);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).cause).toBeInstanceOf(DecryptError);
  });

  it("a wrong responder static key on the initiator fails with HandshakeError at the responder", () => {
    const message = initiator({ rs: fixedPair(backend, 0x55).publicKey }).writeMessage(earlyPayload);
    expect(() => responder().readMessage(message)).toThrow(HandshakeError);
  });

  it("a different prologue (e.g. a rewritten offer id) fails with HandshakeError", () => {
    const message = initiator({ prologue: utf8("paseo/1\0test-server\0offer-id-999") }).writeMessage(earlyPayload);
    expect(() => responder().readMessage(message)).toThrow(HandshakeError);
  });

  it(`low-order ephemeral keys in message 1 or 2 throw LowOrderPointError (${LOW_ORDER.length} points)`, () => {
    expect(LOW_ORDER.length).toBeGreaterThanOrEqual(7);
    for (const hex of LOW_ORDER) {
      const point = fromHex(hex);
      const bad1 = m1.slice();
      bad1.set(point, 0);
      const resp = responder();
      expect(() => resp.readMessage(bad1), hex).toThrow(LowOrderPointError);
      expect(() => resp.readMessage(m1)).toThrow(NoiseStateError);

      const bad2 = m2.slice();
      bad2.set(point, 0);
      const init = initiator();
      init.writeMessage(earlyPayload);
      expect(() => init.readMessage(bad2), hex).toThrow(LowOrderPointError);
    }
  });

  it("messages above 65535 bytes throw NoiseMessageTooLargeError (handshake and transport)", () => {
    const maxPayload = MAX_NOISE_MESSAGE - 32 - 16;
    expect(initiator().writeMessage(new Uint8Array(maxPayload))).toHaveLength(MAX_NOISE_MESSAGE);
    const init = initiator();
    expect(() => init.writeMessage(new Uint8Array(maxPayload + 1))).toThrow(NoiseMessageTooLargeError);
    expect(() => init.writeMessage(EMPTY)).toThrow(NoiseStateError);
    expect(() => responder().readMessage(new Uint8Array(MAX_NOISE_MESSAGE + 1))).toThrow(NoiseMessageTooLargeError);

    const { i, r } = handshake();
    expect(i.send.encryptWithAd(EMPTY, new Uint8Array(MAX_NOISE_MESSAGE - 16))).toHaveLength(MAX_NOISE_MESSAGE);
    expect(() => i.send.encryptWithAd(EMPTY, new Uint8Array(MAX_NOISE_MESSAGE - 15))).toThrow(
      NoiseMessageTooLargeError,
    );
    expect(() => r.recv.decryptWithAd(EMPTY, new Uint8Array(MAX_NOISE_MESSAGE + 1))).toThrow(NoiseMessageTooLargeError);
  });

  it("truncated messages throw TruncatedMessageError (or HandshakeError once the tokens are complete)", () => {
    const minimum = 32 + 16; // e + payload tag
    for (let length = 0; length < minimum; length++) {
      expect(() => responder().readMessage(m1.subarray(0, length)), `m1 length ${length}`).toThrow(
        TruncatedMessageError,
      );
      const init = initiator();
      init.writeMessage(earlyPayload);
      expect(() => init.readMessage(m2.subarray(0, length)), `m2 length ${length}`).toThrow(TruncatedMessageError);
    }
    // Long enough for the tokens but cut inside the payload: the tag no longer verifies.
    expect(() => responder().readMessage(m1.subarray(0, m1.length - 1))).toThrow(HandshakeError);

    const { r } = handshake();
    expect(() => r.recv.decryptWithAd(EMPTY, new Uint8Array(15))).toThrow(TruncatedMessageError);
    expect(() => r.recv.decryptWithAd(EMPTY, EMPTY)).toThrow(ChannelFailedError);
  });

  it("rekey on both sides keeps the channel interoperable; a one-sided rekey does not", () => {
    const { i, r } = handshake();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 3; k++) {
        const text = utf8(`round ${round} message ${k}`);
        expect(r.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, text))).toEqual(text);
        expect(i.recv.decryptWithAd(EMPTY, r.send.encryptWithAd(EMPTY, text))).toEqual(text);
      }
      i.send.rekey();
      r.recv.rekey();
      r.send.rekey();
      i.recv.rekey();
    }
    expect(i.send.nonce).toBe(9n); // rekey keeps the counter (spec §11.3)
    i.send.rekey();
    expect(() => r.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, utf8("x")))).toThrow(DecryptError);
  });

  it("nonce 2^64-1 is reserved: NonceExhaustedError", () => {
    const { i, r } = handshake();
    i.send.setNonce(MAX_NONCE - 1n);
    r.recv.setNonce(MAX_NONCE - 1n);
    expect(r.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, utf8("last")))).toEqual(utf8("last"));
    expect(i.send.nonce).toBe(MAX_NONCE);
    expect(() => i.send.encryptWithAd(EMPTY, utf8("one too many"))).toThrow(NonceExhaustedError);
    expect(() => r.recv.decryptWithAd(EMPTY, new Uint8Array(32))).toThrow(NonceExhaustedError);
    const fresh = handshake();
    fresh.i.send.setNonce(MAX_NONCE);
    expect(() => fresh.i.send.encryptWithAd(EMPTY, EMPTY)).toThrow(NonceExhaustedError);
  });

  it("out-of-turn, post-completion and early split() calls throw NoiseStateError", () => {
    expect(() => responder().writeMessage(EMPTY)).toThrow(NoiseStateError);
    expect(() => initiator().readMessage(m2)).toThrow(NoiseStateError);
    expect(() => initiator().split()).toThrow(NoiseStateError);
    const { init, resp } = handshake();
    expect(() => init.writeMessage(EMPTY)).toThrow(NoiseStateError);
    expect(() => resp.readMessage(m1)).toThrow(NoiseStateError);
    expect(() => init.split()).toThrow(NoiseStateError); // already split by handshake()
  });
});
