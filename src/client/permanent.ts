/** Errors that retrying cannot fix: bad or revoked credentials, protocol mismatch. Reconnect loops stop on these. */
import type { PaseoError } from "../protocol/errors.js";

const PERMANENT = new Set([
  "HANDSHAKE_FAILED",
  "OFFER_INVALID",
  "OFFER_EXPIRED",
  "OFFER_REVOKED",
  "OFFER_VERSION",
  "PROTOCOL_MISMATCH",
  "UNSUPPORTED_VERSION",
  "BAD_REQUEST",
  "FRAME_TOO_LARGE",
  "CLIENT_CLOSED",
]);

export function isPermanent(error: PaseoError): boolean {
  return PERMANENT.has(error.code);
}
