/**
 * How a DaemonClient authenticates, and how that changes (issue 16, docs/protocol.md §6): with a bearer offer
 * (hello 0x01), with an enrolled device's own key (0x02), or by enrolling a device key with a ticket (0x03) — after
 * which every later connection of that client uses the device key, never the spent ticket again.
 *
 * An enrollment whose outcome is unknown (the connection failed after the hello went out: the daemon may have
 * recorded the device and spent a single-use ticket) is resolved on the next attempt by trying the device key
 * first: if the daemon does not know it (4113), nothing was spent and enrolling goes on.
 */
import type { CryptoBackend, KeyPair } from "../protocol/crypto/backend.js";
import { type DeviceRights, sasOf } from "../protocol/device.js";
import { fromBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { type Offer, serverIdOfKey } from "../protocol/offer.js";
import { OfferError } from "../protocol/offer-errors.js";
import type { ConnectAuth, Connected, DaemonRef } from "./connect.js";
import { EnrollmentRequiredError } from "./errors.js";

/**
 * An enrolled device's credential (hello 0x02): who the daemon is and the device's own X25519 private key. The
 * hosts store (src/client/hosts) saves these; SDK code may keep its own.
 */
export interface DeviceCredential {
  serverId: string;
  daemonPublicKeyB64: string;
  relay: { endpoint: string; tls: boolean };
  /** The device's 32-byte X25519 private key, base64url. A secret: never log it. */
  deviceKeyB64: string;
}

/** With a v4 offer (an enrollment ticket): the device key to enroll (hello 0x03). */
export interface EnrollOptions {
  deviceKeyB64: string;
  /**
   * An earlier enrollment with this key may have reached the daemon (its outcome is unknown, e.g. the process died
   * waiting for the reply): try the key as an enrolled device first, and spend the ticket only if the daemon does
   * not know it.
   */
  maybeEnrolled?: boolean;
}

/** Emitted once when the handshake enrolled this device. */
export interface EnrolledEvent {
  deviceId: string;
  rights: DeviceRights;
  /** The short authentication string this client computed (`123-456`): compare with `paseo daemon devices`. */
  sas: string;
  label: string;
}

const REFUSED_BEFORE_RECORDING = new Set([
  "OFFER_EXPIRED",
  "OFFER_REVOKED",
  "DEVICE_REVOKED",
  "ENROLLMENT_REQUIRED",
  "DEVICE_LIMIT",
]);

type Mode = { kind: "offer" } | { kind: "device" | "enroll"; secretKey: Uint8Array; keyPair?: KeyPair };

export class DeviceAuth {
  readonly offer: Offer | undefined;
  readonly daemon: DaemonRef;
  private mode: Mode;
  private enrollmentInDoubt = false;

  /** Checks the inputs (OfferError, EnrollmentRequiredError); connects nothing. */
  constructor(offer: Offer | undefined, device: DeviceCredential | undefined, enroll: EnrollOptions | undefined) {
    if (device) {
      if (offer !== undefined || enroll) throw new OfferError("give either a device credential or an offer, not both");
      this.offer = undefined;
      this.daemon = checkCredential(device);
      this.mode = { kind: "device", secretKey: deviceSecret(device.deviceKeyB64) };
      return;
    }
    if (!offer || typeof offer !== "object") throw new OfferError("no offer given");
    this.offer = offer;
    this.daemon = { serverId: offer.serverId, daemonPublicKeyB64: offer.daemonPublicKeyB64, relay: offer.relay };
    if (enroll) {
      this.mode = { kind: "enroll", secretKey: deviceSecret(enroll.deviceKeyB64) };
      this.enrollmentInDoubt = enroll.maybeEnrolled === true;
    }
    // A ticket is not a password: refuse before dialing rather than send a hello the daemon must refuse (4115).
    else if (offer.v === 4) throw new EnrollmentRequiredError();
    else this.mode = { kind: "offer" };
  }

  /** "offer", "device", or "enroll" until the daemon has enrolled this client's key. */
  get kind(): Mode["kind"] {
    return this.mode.kind;
  }

  /** One handshake with the current mode; `attempt` runs connect() with the given auth. */
  async handshake(backend: CryptoBackend, attempt: (auth: ConnectAuth) => Promise<Connected>): Promise<Connected> {
    const mode = this.mode;
    if (mode.kind === "offer") return attempt({ kind: "offer", offer: this.offer! });
    mode.keyPair ??= { secretKey: mode.secretKey, publicKey: backend.publicKeyOf(mode.secretKey) };
    if (mode.kind === "device") return attempt({ kind: "device", deviceKey: mode.keyPair });
    if (this.enrollmentInDoubt) {
      try {
        return await attempt({ kind: "device", deviceKey: mode.keyPair });
      } catch (err) {
        if (!(err instanceof PaseoError && err.code === "DEVICE_UNKNOWN")) throw err;
      }
    }
    this.enrollmentInDoubt = true; // until the daemon's answer is read, or a refusal says nothing was spent
    try {
      return await attempt({ kind: "enroll", offer: this.offer!, deviceKey: mode.keyPair });
    } catch (err) {
      // Refused by the daemon before message 2 (ticket used, expired or revoked; key revoked): nothing was
      // recorded. Not a HANDSHAKE_FAILED: a reply that did not decrypt here may follow a recorded enrollment.
      if (err instanceof PaseoError && REFUSED_BEFORE_RECORDING.has(err.code)) this.enrollmentInDoubt = false;
      throw err;
    }
  }

  /** After a handshake: an enrollment turns this client into a device; returns the event to emit, once. */
  established(backend: CryptoBackend, connected: Connected): EnrolledEvent | undefined {
    const mode = this.mode;
    if (mode.kind !== "enroll" || connected.info?.kind !== "device") return undefined;
    this.mode = { kind: "device", secretKey: mode.secretKey, ...(mode.keyPair ? { keyPair: mode.keyPair } : {}) };
    this.enrollmentInDoubt = false;
    const info = connected.info;
    if (!info.enrolled || !info.deviceId || !connected.handshakeHash) return undefined;
    return {
      deviceId: info.deviceId,
      rights: info.rights,
      sas: sasOf(backend, connected.handshakeHash),
      label: this.offer?.label ?? `device ${info.deviceId.slice(0, 6)}`,
    };
  }
}

/** The 32-byte X25519 private key of a device, from base64url; OfferError otherwise (never echoing the key). */
function deviceSecret(b64: string): Uint8Array {
  const key = typeof b64 === "string" ? fromBase64Url(b64) : undefined;
  if (key?.length !== 32) throw new OfferError("the device key must be 32 bytes of base64url (deviceKeyB64)");
  return key;
}

/** A device credential's daemon part, checked like an offer's (serverId derived from the key, relay shape). */
function checkCredential(c: DeviceCredential): DaemonRef {
  const key = typeof c?.daemonPublicKeyB64 === "string" ? fromBase64Url(c.daemonPublicKeyB64) : undefined;
  if (key?.length !== 32) throw new OfferError("the device credential's daemonPublicKeyB64 must be 32 bytes");
  if (typeof c.serverId !== "string" || c.serverId !== serverIdOfKey(key))
    throw new OfferError("the device credential's serverId does not match its daemon key");
  if (typeof c.relay?.endpoint !== "string" || typeof c.relay.tls !== "boolean")
    throw new OfferError("the device credential's relay must be { endpoint, tls }");
  return { serverId: c.serverId, daemonPublicKeyB64: c.daemonPublicKeyB64, relay: { ...c.relay } };
}
