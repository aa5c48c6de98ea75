/**
 * The crypto backend interface: the only place paseo touches primitives. Two implementations produce
 * byte-identical output: `noble` (pure JS, browsers, the reference) and `native` (node:crypto, fast).
 *
 * Policy for X25519 (docs/protocol.md, "Low-order points"): `dh()` throws LowOrderPointError when the shared
 * secret is all zero — that is exactly the case of a low-order (or zero) public key. Non-canonical public keys
 * (u >= p) are reduced as RFC 7748 says and accepted. Both backends enforce the same rule.
 */
export type HashName = "SHA256" | "BLAKE2s";

export interface KeyPair {
  readonly publicKey: Uint8Array; // 32 bytes
  readonly secretKey: Uint8Array; // 32 bytes
}

export interface CryptoBackend {
  readonly name: "noble" | "native";
  /** Fresh random key pair from a CSPRNG. */
  generateKeyPair(): KeyPair;
  /** The X25519 public key of a 32-byte secret key. */
  publicKeyOf(secretKey: Uint8Array): Uint8Array;
  /** X25519(secretKey, publicKey). Throws LowOrderPointError on an all-zero result. */
  dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 (RFC 8439): returns ciphertext || 16-byte tag. Nonce must be 12 bytes. */
  encrypt(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Inverse of encrypt. Throws DecryptError when the tag does not verify. */
  decrypt(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** HASH(data) for the named hash (32 bytes for both). */
  hash(name: HashName, data: Uint8Array): Uint8Array;
  /** HMAC-HASH(key, data) as RFC 2104 defines it (block length 64 for both hashes). */
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  randomBytes(length: number): Uint8Array;
}

/** X25519 public and secret keys (Noise's DHLEN) and ChaCha20-Poly1305 keys: the one name for this size. */
export const KEY_LEN = 32;
export const NONCE_LEN = 12;
export const TAG_LEN = 16;
