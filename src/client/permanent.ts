/**
 * Errors that retrying cannot fix: bad or revoked credentials, protocol mismatch. Reconnect loops stop on these —
 * but only when the error can be trusted to say so (docs/protocol.md §4, "Which close codes a client believes").
 *
 * A WebSocket close code crosses the relay in clear, and the relay is untrusted: it can forge any code. So:
 *   - "authenticated": the daemon's encrypted CLOSE (§7 type 3) carried it — believed;
 *   - "unauthenticated": a socket close on an ESTABLISHED session with no encrypted CLOSE before it. The daemon
 *     always sends the encrypted CLOSE first when it ends a live session for a reason of its own, so a bare
 *     "stop" code here came from the relay (or the path broke): never permanent, the client reconnects;
 *   - "pre-handshake": before message 2 there is no channel to authenticate anything, and the daemon refuses a hello
 *     (4100–4104, 4111–4116) with the bare code. A relay could forge these too; DaemonClient believes such a
 *     refusal only after PRE_HANDSHAKE_REFUSALS_BELIEVED consecutive ones (see below);
 *   - undefined: not a close at all (a local check such as a malformed offer or a closed client) — believed.
 */
import type { PaseoError } from "../protocol/errors.js";

const PERMANENT = new Set([
  "HANDSHAKE_FAILED",
  "OFFER_INVALID",
  "OFFER_EXPIRED",
  "OFFER_REVOKED",
  "OFFER_VERSION",
  "PROTOCOL_MISMATCH",
  "UNSUPPORTED_VERSION",
  // 4112: a malformed hello does not get better by sending it again.
  "HELLO_INVALID",
  // 4113–4115: the device key or the ticket is wrong for this daemon; re-pairing is the fix, not retrying.
  "DEVICE_UNKNOWN",
  "DEVICE_REVOKED",
  "ENROLLMENT_REQUIRED",
  // 4116: retrying cannot help until the owner revokes devices.
  "DEVICE_LIMIT",
  "BAD_REQUEST",
  "FRAME_TOO_LARGE",
  "CLIENT_CLOSED",
]);

export type CloseTrust = "authenticated" | "unauthenticated" | "pre-handshake";

/** Set on an error made from a close code (src/client/errors.ts errorForClose): how the code reached us. */
export interface CloseOrigin {
  closeTrust?: CloseTrust;
}

/**
 * A reconnecting client gives up on a permanent-looking refusal before the handshake only when this many arrive in
 * a row with no established session in between. One forged refusal (a relay lying once, on a reconnect) therefore
 * costs a retry, not the session; a genuinely revoked offer costs two extra attempts (< 1 s of backoff) before the
 * user is told. A relay that forges every refusal can still make the client stop — it could equally refuse every
 * connection forever: that is denial of service, which the relay can always do (§1).
 */
export const PRE_HANDSHAKE_REFUSALS_BELIEVED = 3;

/** The error's code is one that retrying cannot fix (whatever its origin). */
export function isPermanentCode(error: PaseoError): boolean {
  return PERMANENT.has(error.code);
}

/** Whether a reconnect loop must stop on this error: a permanent code, unless it came as a bare close on a live session. */
export function isPermanent(error: PaseoError): boolean {
  return PERMANENT.has(error.code) && (error as PaseoError & CloseOrigin).closeTrust !== "unauthenticated";
}

export function closeTrust(error: PaseoError): CloseTrust | undefined {
  return (error as PaseoError & CloseOrigin).closeTrust;
}
