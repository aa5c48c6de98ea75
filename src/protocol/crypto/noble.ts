/** The reference backend: @noble/* only, no Node built-ins, so it runs unchanged in browsers. */
import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { blake2s } from "@noble/hashes/blake2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { DecryptError, LowOrderPointError } from "../errors.js";
import { type CryptoBackend, type HashName, type KeyPair, KEY_LEN } from "./backend.js";
import { assertNonZero, checkAeadArgs, checkCiphertext, checkLength } from "./checks.js";

const hashes = { SHA256: sha256, BLAKE2s: blake2s } as const;

export const nobleBackend: CryptoBackend = {
  name: "noble",
  generateKeyPair(): KeyPair {
    const secretKey = randomBytes(KEY_LEN);
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  },
  publicKeyOf(secretKey) {
    checkLength("X25519 secret key", secretKey, KEY_LEN);
    return x25519.getPublicKey(secretKey);
  },
  dh(secretKey, publicKey) {
    checkLength("X25519 secret key", secretKey, KEY_LEN);
    checkLength("X25519 public key", publicKey, KEY_LEN);
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(secretKey, publicKey);
    } catch {
      // noble throws its own Error for an all-zero result; normalise to the named error.
      throw new LowOrderPointError();
    }
    return assertNonZero(shared);
  },
  encrypt(key, nonce, ad, plaintext) {
    checkAeadArgs(key, nonce);
    return chacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  decrypt(key, nonce, ad, ciphertext) {
    checkAeadArgs(key, nonce);
    checkCiphertext(ciphertext);
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
    } catch {
      throw new DecryptError();
    }
  },
  hash(name: HashName, data) {
    return hashes[name](data);
  },
  hmac(name: HashName, key, data) {
    return hmac(hashes[name], key, data);
  },
  randomBytes(length) {
    return randomBytes(length);
  },
};
