/**
 * The fast backend: node:crypto (OpenSSL) for X25519, ChaCha20-Poly1305, SHA-256, BLAKE2s and HMAC.
 * Raw 32-byte keys are wrapped in fixed DER prefixes (PKCS#8 / SPKI for OID 1.3.101.110) to build KeyObjects.
 * This module is only loaded in Node (see ./select.ts); the browser bundle never reaches it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes as nodeRandomBytes,
  type KeyObject,
} from "node:crypto";
import { DecryptError, LowOrderPointError } from "../errors.js";
import { type CryptoBackend, type HashName, type KeyPair, KEY_LEN, TAG_LEN } from "./backend.js";
import { assertNonZero, checkAeadArgs, checkCiphertext, checkLength } from "./checks.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const hashNames = { SHA256: "sha256", BLAKE2s: "blake2s256" } as const;

// OpenSSL's PKCS#8 decoder costs ~0.4 ms per call, so private KeyObjects are cached per secret-key array:
// ephemeral keys come from generateKeyPair() (already KeyObjects), a static key is decoded once per process.
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function privateKey(secretKey: Uint8Array): KeyObject {
  let key = privateKeys.get(secretKey);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: "der", type: "pkcs8" });
    privateKeys.set(secretKey, key);
  }
  return key;
}

function publicKey(raw: Uint8Array): KeyObject {
  // JWK import is ~10x cheaper than SPKI DER decoding for a raw public key.
  return createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - KEY_LEN));
}

function u8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export const nativeBackend: CryptoBackend = {
  name: "native",
  generateKeyPair(): KeyPair {
    const pair = generateKeyPairSync("x25519");
    // DER, never JWK: Node 20's KeyObject.export({ format: "jwk" }) allocates while holding the key's mutex, and a GC
    // in that window that collects this pair's KeyGenJob locks the same mutex again: the thread deadlocks forever
    // (reproduced in a loop within seconds; see bench/README.md). The DER writers take no lock.
    const der = pair.privateKey.export({ format: "der", type: "pkcs8" });
    const secretKey = new Uint8Array(der.subarray(der.length - KEY_LEN));
    privateKeys.set(secretKey, pair.privateKey);
    return { secretKey, publicKey: rawPublic(pair.publicKey) };
  },
  publicKeyOf(secretKey) {
    checkLength("X25519 secret key", secretKey, KEY_LEN);
    return rawPublic(createPublicKey(privateKey(secretKey)));
  },
  dh(secretKey, peerPublic) {
    checkLength("X25519 secret key", secretKey, KEY_LEN);
    checkLength("X25519 public key", peerPublic, KEY_LEN);
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: privateKey(secretKey), publicKey: publicKey(peerPublic) });
    } catch {
      // OpenSSL refuses to derive an all-zero secret; normalise to the named error.
      throw new LowOrderPointError();
    }
    return assertNonZero(u8(shared));
  },
  encrypt(key, nonce, ad, plaintext) {
    checkAeadArgs(key, nonce);
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_LEN });
    cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    return u8(Buffer.concat([head, tail, cipher.getAuthTag()]));
  },
  decrypt(key, nonce, ad, ciphertext) {
    checkAeadArgs(key, nonce);
    checkCiphertext(ciphertext);
    const body = ciphertext.subarray(0, ciphertext.length - TAG_LEN);
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_LEN });
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LEN));
    decipher.setAAD(ad, { plaintextLength: body.length });
    try {
      const head = decipher.update(body);
      const tail = decipher.final();
      return u8(tail.length ? Buffer.concat([head, tail]) : head);
    } catch {
      throw new DecryptError();
    }
  },
  hash(name: HashName, data) {
    return u8(createHash(hashNames[name]).update(data).digest());
  },
  hmac(name: HashName, key, data) {
    return u8(createHmac(hashNames[name], key).update(data).digest());
  },
  randomBytes(length) {
    return u8(nodeRandomBytes(length));
  },
};
