/**
 * serverId = base32(SHA-256("paseo/server-id/v1" || daemonPublicKey)[0..16]) — 128 bits, 26 characters.
 * Derived from the key so that the relay (and every client) can check that a daemon owns the id it claims.
 * The fingerprint is a short, human-comparable form of the same key for out-of-band checks.
 */
import type { CryptoBackend } from "./crypto/backend.js";
import { concatBytes, toBase32, utf8 } from "./encoding.js";

const SERVER_ID_DOMAIN = utf8("paseo/server-id/v1");
const FINGERPRINT_DOMAIN = utf8("paseo/fingerprint/v1");
export const SERVER_ID_RE = /^[a-z2-7]{26}$/;

/** Only SHA-256 is needed: any backend, or a bare hasher (offer parsing uses @noble/hashes alone). */
export type Sha256Source = Pick<CryptoBackend, "hash">;

export function deriveServerId(backend: Sha256Source, publicKey: Uint8Array): string {
  return toBase32(backend.hash("SHA256", concatBytes(SERVER_ID_DOMAIN, publicKey)).subarray(0, 16));
}

/** e.g. "k7qf-3mzx-a9p2-…": 4 groups of 4 base32 characters (80 bits), for humans to compare. */
export function keyFingerprint(backend: Sha256Source, publicKey: Uint8Array): string {
  const text = toBase32(backend.hash("SHA256", concatBytes(FINGERPRINT_DOMAIN, publicKey)).subarray(0, 10));
  return text.match(/.{4}/g)!.join("-");
}

/** The serverId prefix used in logs (never the whole id in relay logs, never anything secret). */
export function shortId(serverId: string): string {
  return serverId.slice(0, 8);
}
