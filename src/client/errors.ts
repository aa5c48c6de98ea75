/**
 * Client errors: each says which hop failed and what to do next, carries a stable `code`, and never contains the
 * pairing secret or the link. `errorForClose()` maps a WebSocket close code (docs/protocol.md §4) to one of them.
 */
import { CloseCode, closeCodeName } from "../protocol/close-codes.js";
import { PaseoError } from "../protocol/errors.js";
import { isPermanentCode, type CloseOrigin, type CloseTrust } from "./permanent.js";
import { isLoopbackEndpoint } from "../protocol/relay-url.js";

export { OfferError, OfferExpiredError, OfferRevokedError, OfferVersionError } from "../protocol/offer-errors.js";
import { OfferExpiredError, OfferRevokedError } from "../protocol/offer-errors.js";

export class RelayUnreachableError extends PaseoError {
  /** `endpoint` is host:port. On loopback nothing but this machine can be at fault, so the advice differs. */
  constructor(where: string, detail?: string, endpoint?: string) {
    const why = detail ? ` (${detail})` : "";
    super(
      "RELAY_UNREACHABLE",
      endpoint !== undefined && isLoopbackEndpoint(endpoint)
        ? `nothing is listening at ${endpoint} on this machine${why}: the daemon that made this link is not running, and neither is its embedded relay — start it with \`paseo daemon start\` (or, if you run a separate relay there, \`paseo relay --port ${endpoint.replace(/^.*:/, "")}\`)`
        : `cannot reach the relay at ${where}${why}: check the address and your network, or that the relay is running`,
    );
  }
}

export class DaemonOfflineError extends PaseoError {
  /** The close code that reported it (4001 offline, 4002 gone, 4110 shutting down), when one did. */
  readonly closeCode: number | undefined;
  constructor(detail = "the daemon is not connected to the relay", closeCode?: number) {
    super(
      "DAEMON_OFFLINE",
      `daemon offline: ${detail} — start it with \`paseo daemon start\` on that machine, or wait for it to reconnect`,
    );
    this.closeCode = closeCode;
  }
}

/**
 * The one HandshakeError (protocol/noise/errors.ts), re-exported so `instanceof` works whether it came from `paseo`
 * or `paseo/protocol`: the Noise engine raises it for a message that did not authenticate, the client for every
 * other reason the handshake could not complete.
 */
export { HandshakeError } from "../protocol/noise/errors.js";
import { HandshakeError } from "../protocol/noise/errors.js";

/** A HandshakeError whose message says which step failed (never the secret or the link). */
export function handshakeFailed(detail: string): HandshakeError {
  return new HandshakeError(`handshake failed: ${detail}`);
}

export class TimeoutError extends PaseoError {
  /** `ms`: how long we waited; omitted when the other side timed out (a close code), whose wait we do not know. */
  constructor(what: string, ms?: number) {
    super("TIMEOUT", ms === undefined ? `${what} timed out` : `${what} timed out after ${ms} ms`);
  }
}

export class RpcError extends PaseoError {
  readonly method: string;
  constructor(method: string, code: string, message: string) {
    super(code, `${method}: ${message}`);
    this.method = method;
  }
}

/** The connection ended: relay or daemon closed it with a code that is not one of the specific errors above. */
export class ConnectionClosedError extends PaseoError {
  readonly closeCode: number;
  constructor(closeCode: number, reason: string) {
    super(closeCodeName(closeCode), `connection closed (${closeCode}${reason ? ` ${reason}` : ""})`);
    this.closeCode = closeCode;
  }
}

export class FrameTooLargeError extends PaseoError {
  constructor(detail: string) {
    super("FRAME_TOO_LARGE", `message too large: ${detail}`);
  }
}

const REPAIR = "re-pair: run `paseo daemon pair` on the daemon's machine, then `paseo hosts add <name> <link>` here";

/** 4113: this device key is not enrolled on this daemon (never enrolled, or enrolled on another daemon). */
export class DeviceUnknownError extends PaseoError {
  constructor() {
    super("DEVICE_UNKNOWN", `this device is not enrolled on this daemon — ${REPAIR}`);
  }
}

/** 4114: the daemon's owner revoked this device (hello refused, or a live session ended at once). */
export class DeviceRevokedError extends PaseoError {
  constructor() {
    super("DEVICE_REVOKED", `this device was revoked on the daemon (\`paseo daemon devices revoke\`) — ${REPAIR}`);
  }
}

/** 4115: a v4 ticket was used as a bearer offer (0x01): tickets only enroll devices (0x03). */
export class EnrollmentRequiredError extends PaseoError {
  constructor() {
    super(
      "ENROLLMENT_REQUIRED",
      "this link is an enrollment ticket: it enrolls a device key (DaemonClient option `enroll`, or `paseo hosts add <name> <link>`), it cannot be used as a bearer offer",
    );
  }
}

/** 4116: the daemon has its maximum of active devices; nothing was spent. */
export class DeviceLimitError extends PaseoError {
  constructor() {
    super(
      "DEVICE_LIMIT",
      "the daemon already has its maximum of enrolled devices (the link was not spent): revoke devices it no longer needs with `paseo daemon devices revoke <id>` on that machine, then enroll again",
    );
  }
}

/**
 * Map a close code (from the relay, or from the daemon via the relay) to the matching named error. `trust` says how
 * the code arrived (permanent.ts): a reconnect loop believes a "stop" code only when it was authenticated.
 */
export function errorForClose(code: number, reason: string, trust?: CloseTrust): PaseoError {
  const error = closeError(code, reason);
  if (trust === undefined) return error;
  (error as PaseoError & CloseOrigin).closeTrust = trust;
  // Say so when a "stop" code is not believed, so a user who sees it knows why paseo keeps trying.
  if (trust === "unauthenticated" && isPermanentCode(error)) {
    error.message = `the connection was closed with ${code} ${closeCodeName(code)}${reason ? ` (${reason})` : ""}, but not by the daemon's authenticated CLOSE — not trusted: the relay may have forged it`;
  }
  return error;
}

function closeError(code: number, reason: string): PaseoError {
  switch (code) {
    case CloseCode.DAEMON_OFFLINE:
      return new DaemonOfflineError(undefined, code);
    case CloseCode.DAEMON_GONE:
      return new DaemonOfflineError("the daemon disconnected from the relay", code);
    case CloseCode.DAEMON_SHUTDOWN:
      return new DaemonOfflineError("the daemon is shutting down", code);
    case CloseCode.HANDSHAKE_FAILED:
      return handshakeFailed(
        "the daemon did not accept this offer's key or secret — the link may be damaged or from an older pairing; get a new one with `paseo daemon pair`",
      );
    case CloseCode.OFFER_EXPIRED:
      return new OfferExpiredError();
    case CloseCode.OFFER_REVOKED:
      return new OfferRevokedError("revoked");
    case CloseCode.OFFER_UNKNOWN:
      return new OfferRevokedError("unknown");
    case CloseCode.OFFER_USED:
      return new OfferRevokedError("used");
    case CloseCode.DEVICE_UNKNOWN:
      return new DeviceUnknownError();
    case CloseCode.DEVICE_REVOKED:
      return new DeviceRevokedError();
    case CloseCode.ENROLLMENT_REQUIRED:
      return new EnrollmentRequiredError();
    case CloseCode.DEVICE_LIMIT:
      return new DeviceLimitError();
    case CloseCode.FRAME_TOO_LARGE:
    case CloseCode.MESSAGE_TOO_LARGE:
      return new FrameTooLargeError(reason || "refused by the peer");
    case CloseCode.HANDSHAKE_TIMEOUT:
    case CloseCode.TIMEOUT:
      // The peer's timeout, reported by its close code: its reason says what timed out; we never waited 0 ms.
      return new TimeoutError(`${reason || "connection"} (close ${code})`);
    default:
      return new ConnectionClosedError(code, reason);
  }
}

/** This DaemonClient was closed with close(): it never connects again. Create a new one. */
export class ClientClosedError extends PaseoError {
  constructor() {
    super("CLIENT_CLOSED", "this DaemonClient was closed; create a new one");
  }
}

/** A connection attempt failed with something that is not a named paseo error (e.g. the WebSocket constructor threw). */
export class ConnectFailedError extends PaseoError {
  constructor(detail: string) {
    super("CONNECT_FAILED", detail);
  }
}
