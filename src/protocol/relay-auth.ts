/**
 * Relay registration: the daemon proves possession of its static key `s` before it may hold a serverId slot
 * (docs/protocol.md §5.2). Pure functions over a CryptoBackend, shared by the relay (createChallenge, verifyAuth)
 * and the daemon (answerChallenge).
 *
 *   mac = HMAC-SHA256(key = X25519(s, E_r), "paseo/relay-auth/v1" ‖ nonce ‖ utf8(serverId))
 *
 * Why this shape: the relay's ephemeral `E_r` and the nonce are fresh per connection, so a captured AUTH is useless
 * on any other connection; the MAC binds the serverId, so a proof for one slot cannot claim another; and the relay
 * checks serverId == derive(S), so knowing the serverId (public) or S (in every offer) is not enough.
 */
import type { CryptoBackend, KeyPair } from "./crypto/backend.js";
import { LowOrderPointError } from "./errors.js";
import { bytesEqual, concatBytes, utf8 } from "./encoding.js";
import { MuxDecodeError, MuxType, CHALLENGE_NONCE_BYTES, decodeMux, encodeAuth, encodeChallenge } from "./relay-mux.js";
import { deriveServerId, SERVER_ID_RE } from "./server-id.js";

export const RELAY_AUTH_DOMAIN = "paseo/relay-auth/v1";
const DOMAIN_BYTES = utf8(RELAY_AUTH_DOMAIN);

/** The relay's per-connection secret state. Single use: verifyAuth consumes it (see `used`). */
export interface ChallengeState {
  /** The relay's ephemeral key pair (e_r, E_r). */
  readonly ephemeral: KeyPair;
  readonly nonce: Uint8Array;
  /** The encoded CHALLENGE message to send to the daemon. */
  readonly message: Uint8Array;
  /** Set by verifyAuth: a challenge answers exactly one AUTH, so a second attempt on one connection fails too. */
  used: boolean;
}

/** The MAC both sides compute from the X25519 shared secret. */
export function relayAuthMac(
  backend: CryptoBackend,
  shared: Uint8Array,
  nonce: Uint8Array,
  serverId: string,
): Uint8Array {
  return backend.hmac("SHA256", shared, concatBytes(DOMAIN_BYTES, nonce, utf8(serverId)));
}

/** Relay side: a fresh ephemeral key and nonce for one daemon connection. */
export function createChallenge(backend: CryptoBackend): ChallengeState {
  const ephemeral = backend.generateKeyPair();
  const nonce = backend.randomBytes(CHALLENGE_NONCE_BYTES);
  return { ephemeral, nonce, message: encodeChallenge(ephemeral.publicKey, nonce), used: false };
}

/**
 * Daemon side: the AUTH message for a decoded CHALLENGE. Throws LowOrderPointError when the relay sent a low-order
 * E_r (a broken or hostile relay).
 */
export function authForChallenge(
  backend: CryptoBackend,
  keyPair: { secretKey: Uint8Array; publicKey: Uint8Array },
  serverId: string,
  challenge: { ephemeralPublicKey: Uint8Array; nonce: Uint8Array },
): Uint8Array {
  const shared = backend.dh(keyPair.secretKey, challenge.ephemeralPublicKey);
  return encodeAuth(keyPair.publicKey, relayAuthMac(backend, shared, challenge.nonce, serverId));
}

/** Daemon side, from the raw CHALLENGE bytes. Throws MuxDecodeError when they are not a CHALLENGE. */
export function answerChallenge(
  backend: CryptoBackend,
  keyPair: { secretKey: Uint8Array; publicKey: Uint8Array },
  serverId: string,
  challenge: Uint8Array,
): Uint8Array {
  const msg = decodeMux(challenge);
  if (msg.type !== "challenge") throw new MuxDecodeError(`expected CHALLENGE, got ${msg.type.toUpperCase()}`);
  return authForChallenge(backend, keyPair, serverId, msg);
}

/**
 * Relay side: does `authMsg` prove possession of the key behind `serverId` for this challenge? Never throws for
 * peer input — every malformed, low-order, mismatched or replayed answer is simply `false`.
 */
export function verifyAuth(
  backend: CryptoBackend,
  state: ChallengeState,
  serverId: string,
  authMsg: Uint8Array,
): boolean {
  if (state.used) return false;
  state.used = true;
  if (!SERVER_ID_RE.test(serverId) || authMsg.length === 0 || authMsg[0] !== MuxType.AUTH) return false;
  let publicKey: Uint8Array;
  let mac: Uint8Array;
  try {
    const msg = decodeMux(authMsg);
    if (msg.type !== "auth") return false;
    ({ publicKey, mac } = msg);
  } catch (err) {
    if (err instanceof MuxDecodeError) return false;
    throw err;
  }
  // Cheap public check first: the key must be the one this serverId was derived from.
  if (deriveServerId(backend, publicKey) !== serverId) return false;
  let shared: Uint8Array;
  try {
    shared = backend.dh(state.ephemeral.secretKey, publicKey);
  } catch (err) {
    if (err instanceof LowOrderPointError) return false;
    throw err;
  }
  return bytesEqual(relayAuthMac(backend, shared, state.nonce, serverId), mac);
}
