/** Unit tests for the Noise building blocks: nonce encoding, HKDF, CipherState rules, pattern parsing, config checks. */
import { hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CryptoBackend } from "../../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../../src/protocol/crypto/noble.js";
import { toHex, utf8 } from "../../../src/protocol/encoding.js";
import {
  ChannelFailedError,
  CipherState,
  HandshakeState,
  Nonce,
  NoiseConfigError,
  NoiseStateError,
  noiseHkdf,
  parseProtocolName,
  SUPPORTED_PATTERNS,
} from "../../../src/protocol/noise/index.js";

const EMPTY = new Uint8Array(0);

describe("Nonce", () => {
  it("encodes as 4 zero bytes || little-endian u64", () => {
    expect(toHex(new Nonce(0x0102030405060708n).toBytes())).toBe("00000000" + "0807060504030201");
    expect(toHex(new Nonce().toBytes())).toBe("00".repeat(12));
  });

  it("carries across the 32-bit boundary and rejects out-of-range values", () => {
    const n = new Nonce(0xffff_ffffn);
    n.increment();
    expect(n.value).toBe(0x1_0000_0000n);
    expect(toHex(n.toBytes())).toBe("00000000" + "0000000001000000");
    expect(() => new Nonce(-1n)).toThrow(RangeError);
    expect(() => new Nonce(1n << 64n)).toThrow(RangeError);
  });
});

describe("Noise HKDF", () => {
  it("equals RFC 5869 HKDF with salt = ck and empty info (a cross-check, not the implementation)", () => {
    const ck = new Uint8Array(32).fill(7);
    const ikm = utf8("input key material");
    const rfc = new Uint8Array(hkdfSync("sha256", ikm, ck, EMPTY, 96));
    const [a, b, c] = noiseHkdf(nobleBackend, "SHA256", ck, ikm, 3);
    expect(toHex(a!) + toHex(b!) + toHex(c!)).toBe(toHex(rfc));
  });
});

describe.each([nobleBackend, nativeBackend])("CipherState on the $name backend", (backend: CryptoBackend) => {
  it("passes data through without a key, and refuses bad keys and keyless rekey", () => {
    const c = new CipherState(backend);
    expect(c.hasKey()).toBe(false);
    expect(c.encryptWithAd(EMPTY, utf8("x"))).toEqual(utf8("x"));
    expect(() => c.initializeKey(new Uint8Array(31))).toThrow(NoiseConfigError);
    expect(() => c.rekey()).toThrow(NoiseStateError);
  });

  it("rekey is ENCRYPT(k, 2^64-1, empty, zeros32)[0..32] (spec §11.3)", () => {
    const key = new Uint8Array(32).fill(9);
    const c = new CipherState(backend);
    c.initializeKey(key);
    c.rekey();
    const maxNonce = new Uint8Array(12).fill(0xff, 4);
    const expected = backend.encrypt(key, maxNonce, EMPTY, new Uint8Array(32)).slice(0, 32);
    const reference = new CipherState(backend);
    reference.initializeKey(expected);
    expect(c.encryptWithAd(EMPTY, utf8("after rekey"))).toEqual(reference.encryptWithAd(EMPTY, utf8("after rekey")));
  });

  it("destroy() refuses further use", () => {
    const c = new CipherState(backend);
    c.initializeKey(new Uint8Array(32));
    c.destroy();
    expect(() => c.encryptWithAd(EMPTY, EMPTY)).toThrow(ChannelFailedError);
  });
});

describe("parseProtocolName", () => {
  it("places psk0 first in message 1 and pskN last in message N", () => {
    const nk = parseProtocolName("Noise_NKpsk0_25519_ChaChaPoly_SHA256");
    expect(nk.pattern.messages).toEqual([
      ["psk", "e", "es"],
      ["e", "ee"],
    ]);
    expect(nk.pattern.responderPreMessage).toEqual(["s"]);
    const nn = parseProtocolName("Noise_NNpsk2+psk0_25519_ChaChaPoly_BLAKE2s");
    expect(nn.pattern.messages).toEqual([
      ["psk", "e"],
      ["e", "ee", "psk"],
    ]);
    expect(nn.pskPositions).toEqual([0, 2]);
    expect(nn.hash).toBe("BLAKE2s");
  });

  it.each([
    "Noise_ZZ_25519_ChaChaPoly_SHA256",
    "Noise_XXfallback_25519_ChaChaPoly_SHA256",
    "Noise_NNpsk3_25519_ChaChaPoly_SHA256",
    "Noise_NNpsk0+psk0_25519_ChaChaPoly_SHA256",
    "Noise_NN_448_ChaChaPoly_SHA256",
    "Noise_NN_25519_AESGCM_SHA256",
    "Noise_NN_25519_ChaChaPoly_SHA512",
    "Noise_NN_25519_ChaChaPoly",
    "NN",
  ])("refuses %s with NoiseConfigError", (name) => {
    expect(() => parseProtocolName(name)).toThrow(NoiseConfigError);
  });

  it("knows all 38 one-way, fundamental and deferred patterns", () => {
    expect(SUPPORTED_PATTERNS).toHaveLength(38);
  });
});

describe("HandshakeState configuration checks", () => {
  const backend = nobleBackend;
  const s = backend.generateKeyPair();
  const base = { backend, initiator: true };
  it.each([
    ["missing rs for NK", { ...base, protocolName: "Noise_NK_25519_ChaChaPoly_SHA256" }],
    [
      "rs given for XX (it is transmitted)",
      { ...base, protocolName: "Noise_XX_25519_ChaChaPoly_SHA256", s, rs: s.publicKey },
    ],
    ["missing s for XX", { ...base, protocolName: "Noise_XX_25519_ChaChaPoly_SHA256" }],
    ["missing psk", { ...base, protocolName: "Noise_NNpsk0_25519_ChaChaPoly_SHA256" }],
    ["short psk", { ...base, protocolName: "Noise_NNpsk0_25519_ChaChaPoly_SHA256", psks: [new Uint8Array(31)] }],
    ["short rs", { ...base, protocolName: "Noise_NK_25519_ChaChaPoly_SHA256", rs: new Uint8Array(31) }],
  ])("%s → NoiseConfigError", (_label, options) => {
    expect(() => new HandshakeState(options)).toThrow(NoiseConfigError);
  });
});

describe.each([nobleBackend, nativeBackend])("every supported pattern with random keys on $name", (backend) => {
  const variants = SUPPORTED_PATTERNS.flatMap((p) => {
    const messages = parseProtocolName(`Noise_${p}_25519_ChaChaPoly_SHA256`).pattern.messages.length;
    return [p, `${p}psk0+psk${messages}`];
  });
  it.each(variants)("%s completes and transports", (p) => {
    const protocolName = `Noise_${p}_25519_ChaChaPoly_SHA256`;
    const { pattern, pskPositions } = parseProtocolName(protocolName);
    const [si, sr] = [backend.generateKeyPair(), backend.generateKeyPair()];
    const psks = pskPositions.map(() => backend.randomBytes(32));
    const init = new HandshakeState({
      protocolName,
      initiator: true,
      backend,
      s: si,
      psks,
      rs: pattern.responderPreMessage.includes("s") ? sr.publicKey : undefined,
    });
    const resp = new HandshakeState({
      protocolName,
      initiator: false,
      backend,
      s: sr,
      psks,
      rs: pattern.initiatorPreMessage.includes("s") ? si.publicKey : undefined,
    });
    for (let i = 0; !init.isComplete; i++) {
      const [w, r] = i % 2 === 0 ? [init, resp] : [resp, init];
      expect(w.isMyTurn).toBe(true);
      expect(r.readMessage(w.writeMessage(utf8(`m${i}`)))).toEqual(utf8(`m${i}`));
    }
    expect(resp.isComplete).toBe(true);
    const sends = (parity: number) => pattern.messages.some((m, i) => i % 2 === parity && m.includes("s"));
    const initiatorStatic = pattern.initiatorPreMessage.includes("s") || sends(0);
    const responderStatic = pattern.responderPreMessage.includes("s") || sends(1);
    expect(resp.remoteStaticKey()).toEqual(initiatorStatic ? si.publicKey : undefined);
    expect(init.remoteStaticKey()).toEqual(responderStatic ? sr.publicKey : undefined);
    const [a, b] = [init.split(), resp.split()];
    expect(b.recv.decryptWithAd(EMPTY, a.send.encryptWithAd(EMPTY, utf8("up")))).toEqual(utf8("up"));
    if (pattern.oneWay) {
      expect(() => b.send.encryptWithAd(EMPTY, utf8("down"))).toThrow(ChannelFailedError);
    } else {
      expect(a.recv.decryptWithAd(EMPTY, b.send.encryptWithAd(EMPTY, utf8("down")))).toEqual(utf8("down"));
    }
  });
});
