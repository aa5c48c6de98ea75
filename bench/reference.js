/**
 * The reference framing: what the closest existing system does with every message — tweetnacl `secretbox`
 * (XSalsa20-Poly1305, pure JS) with a random 24-byte nonce, then base64 text. A few lines, so the anchor is measured
 * on this machine in the same run instead of being quoted.
 *
 * Base64 here is Node's native Buffer codec (the fastest available), so the reference is, if anything, flattered.
 * The paseo relay only accepts binary frames on the client leg (text → 4000), so the base64 text travels as the
 * bytes of a binary WebSocket message; the wire size is the same as a text frame's.
 */
import nacl from "tweetnacl";

export const REF_KEY_BYTES = nacl.secretbox.keyLength; // 32
const NONCE = nacl.secretbox.nonceLength; // 24

/** plaintext → base64(nonce ‖ secretbox) as bytes (ASCII). */
export function refSeal(key, plaintext) {
  const nonce = nacl.randomBytes(NONCE);
  const box = nacl.secretbox(plaintext, nonce, key);
  const out = Buffer.allocUnsafe(NONCE + box.length);
  out.set(nonce, 0);
  out.set(box, NONCE);
  return Buffer.from(out.toString("base64"), "latin1");
}

/** Inverse of refSeal; throws when the box does not authenticate. */
export function refOpen(key, wire) {
  const raw = Buffer.from(
    Buffer.isBuffer(wire) ? wire.toString("latin1") : Buffer.from(wire).toString("latin1"),
    "base64",
  );
  const opened = nacl.secretbox.open(raw.subarray(NONCE), raw.subarray(0, NONCE), key);
  if (!opened) throw new Error("reference framing: secretbox did not authenticate");
  return opened;
}

/** The anchor's key agreement: tweetnacl's pure-JS X25519. */
export function refDh(secretKey, publicKey) {
  return nacl.scalarMult(secretKey, publicKey);
}

export function refKeyPair() {
  return nacl.box.keyPair();
}
