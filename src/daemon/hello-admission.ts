/**
 * Who may open a session: the client's hello (docs/protocol.md §6) read, checked and answered up to — not
 * including — sending message 2. One function per hello version:
 *
 *   0x01 bearer offer (NKpsk0): offer lookup (4101–4104) → a ticket offer is refused here (4115: tickets enroll
 *        devices, they are not passwords) → message 1 → the offer's use committed → session kind "offer" (or
 *        "local" for the daemon's own local offer), rights control.
 *   0x02 enrolled device (IK): message 1 (a key for another daemon fails here, 4100) → the device key looked up
 *        (4113 unknown, 4114 revoked) → session kind "device" with the device's rights.
 *   0x03 enrollment (IKpsk1 with a ticket): offer lookup → message 1 (proves the ticket secret and the device key)
 *        → a revoked key is refused (4114); a key already enrolled is admitted as that device without spending a use
 *        (a retried enrollment); else one use of the ticket is spent and the device recorded, with the SAS of this
 *        handshake, before message 2 leaves.
 *
 * The connection (connection.ts) does the I/O and the session; this module only decides.
 */
import { CloseCode } from "../protocol/close-codes.js";
import type { CryptoBackend, KeyPair } from "../protocol/crypto/backend.js";
import { deviceIdOf, type DeviceInfo, type DeviceRights, sasOf, type SessionInfo } from "../protocol/device.js";
import { toBase64Url } from "../protocol/encoding.js";
import type { PaseoError } from "../protocol/errors.js";
import { type AppMessage, FrameError, MessageTooLargeError } from "../protocol/frame.js";
import { HelloError, parseHello, ServerHandshake } from "../protocol/handshake.js";
import {
  DEVICE_HELLO_VERSION,
  DeviceServerHandshake,
  ENROLL_HELLO_VERSION,
  parseDeviceHello,
} from "../protocol/handshake-device.js";
import { NoiseMessageTooLargeError } from "../protocol/noise/index.js";
import type { SecureChannel } from "../protocol/secure-channel.js";
import type { AuditActor } from "./audit-log.js";
import type { OfferRefusal } from "./offer-store.js";
import type { NewDevice } from "./device-store.js";

/** `once`: a single-use offer (consumed at admission; see offer-sessions.ts). The local offer is reusable. */
export type OfferLookup =
  | { psk: Uint8Array; once?: boolean; ticket?: boolean; rights?: DeviceRights; label?: string }
  | { refused: OfferRefusal };

/** What admission needs from the daemon's device store (device-store.ts). Absent: 0x02/0x03 are refused (4111). */
export interface DeviceDirectory {
  byKey(publicKeyB64: string): Promise<DeviceInfo | undefined>;
  /** Whether the daemon already has its maximum of active devices (device-store.ts MAX_ACTIVE_DEVICES). */
  full(): Promise<boolean>;
  /** Spend one use of the ticket on this device (offer-store.ts enrollDevice). */
  spendTicket(offerId: string, deviceId: string): Promise<true | OfferRefusal>;
  /** Record the device; a key revoked meanwhile is refused. */
  record(device: NewDevice): Promise<{ device: DeviceInfo } | { refused: "revoked" }>;
}

export interface AdmissionContext {
  backend: CryptoBackend;
  staticKey: KeyPair;
  serverId: string;
  maxIncomingMessage: number;
  lookupOffer(offerId: string): Promise<OfferLookup>;
  commitOfferUse(offerId: string, once: boolean): Promise<true | OfferRefusal>;
  actorOf?(offerId: string): AuditActor;
  devices?: DeviceDirectory;
}

export interface Admitted {
  session: SessionInfo;
  actor: AuditActor;
  early: AppMessage | undefined;
  /** For offer sessions: what to track for revoke/expiry (offer-sessions.ts). */
  offer?: { id: string; once: boolean };
  /** Write message 2 with this welcome (the caller sends it, after commit() when there is one). */
  reply(welcome: AppMessage): { message: Uint8Array; channel: SecureChannel };
  /**
   * Enrollment only: after reply() and before message 2 is sent, record the device (with the SAS of this
   * handshake). A refusal means: close with its code instead of sending message 2.
   */
  commit?(from: string): Promise<{ enrolled: DeviceInfo } | Refused>;
}

export interface Refused {
  code: number;
  /** Who was refused, when the hello named someone (the audit log). */
  actor?: AuditActor;
  /** For the daemon's log (never a secret). */
  why: string;
}

const REFUSAL_CODES = {
  unknown: CloseCode.OFFER_UNKNOWN,
  expired: CloseCode.OFFER_EXPIRED,
  revoked: CloseCode.OFFER_REVOKED,
  used: CloseCode.OFFER_USED,
} as const;

/** Errors of a hello whose shape is wrong (4112), as opposed to one that did not authenticate (4100). */
function isMalformedHello(err: unknown): boolean {
  return (
    err instanceof HelloError ||
    err instanceof FrameError ||
    err instanceof MessageTooLargeError ||
    err instanceof NoiseMessageTooLargeError
  );
}

function handshakeFailure(err: unknown, actor?: AuditActor): Refused {
  // Authenticated but badly framed (or oversized) is a broken peer, not a wrong secret: do not tell it to re-pair.
  const code = isMalformedHello(err) ? CloseCode.HELLO_INVALID : CloseCode.HANDSHAKE_FAILED;
  return { code, ...(actor ? { actor } : {}), why: `handshake failed (${(err as PaseoError).code ?? "error"})` };
}

function offerActor(ctx: AdmissionContext, offerId: string): AuditActor {
  return ctx.actorOf?.(offerId) ?? { kind: "offer", id: offerId };
}

export async function admitHello(data: Uint8Array, ctx: AdmissionContext): Promise<Admitted | Refused> {
  const version = data[0];
  if (ctx.devices && (version === DEVICE_HELLO_VERSION || version === ENROLL_HELLO_VERSION))
    return version === DEVICE_HELLO_VERSION
      ? admitDevice(data, ctx, ctx.devices)
      : admitEnrollment(data, ctx, ctx.devices);
  return admitOffer(data, ctx);
}

async function admitOffer(data: Uint8Array, ctx: AdmissionContext): Promise<Admitted | Refused> {
  let hello: ReturnType<typeof parseHello>;
  try {
    hello = parseHello(data);
  } catch (err) {
    const unsupported = err instanceof HelloError && err.code === "UNSUPPORTED_VERSION";
    return {
      code: unsupported ? CloseCode.UNSUPPORTED_VERSION : CloseCode.HELLO_INVALID,
      why: (err as Error).message,
    };
  }
  const offerId = toBase64Url(hello.offerId);
  const actor = offerActor(ctx, offerId);
  const found = await ctx.lookupOffer(offerId);
  if ("refused" in found) return { code: REFUSAL_CODES[found.refused], actor, why: `offer ${found.refused}` };
  if (found.ticket) return { code: CloseCode.ENROLLMENT_REQUIRED, actor, why: "a ticket in a 0x01 hello" };
  const handshake = new ServerHandshake({
    backend: ctx.backend,
    serverId: ctx.serverId,
    staticKey: ctx.staticKey,
    offerId: hello.offerId,
    psk: found.psk,
    channel: { maxIncomingMessage: ctx.maxIncomingMessage },
  });
  let early: AppMessage | undefined;
  try {
    early = handshake.readHello(hello.noiseMessage);
  } catch (err) {
    return handshakeFailure(err, actor);
  }
  const once = found.once === true;
  const committed = await ctx.commitOfferUse(offerId, once);
  if (committed !== true) return { code: REFUSAL_CODES[committed], actor, why: `offer ${committed}` };
  return {
    session: { kind: actor.kind, rights: "control", deviceId: null, offerId, enrolled: false },
    actor,
    early,
    offer: { id: offerId, once },
    reply: (welcome) => handshake.reply(welcome),
  };
}

function parse(data: Uint8Array): ReturnType<typeof parseDeviceHello> | Refused {
  try {
    return parseDeviceHello(data);
  } catch (err) {
    return { code: CloseCode.HELLO_INVALID, why: (err as Error).message };
  }
}

function deviceSession(device: DeviceInfo, enrolled: boolean): SessionInfo {
  return { kind: "device", rights: device.rights, deviceId: device.id, offerId: device.offerId, enrolled };
}

/** Message 1 of a device hello read: the responder, its early request and the device key it proved. */
interface ReadDeviceHello {
  handshake: DeviceServerHandshake;
  early: AppMessage | undefined;
  key: Uint8Array;
}

function readDeviceHello(
  ctx: AdmissionContext,
  noiseMessage: Uint8Array,
  enroll: { offerId: Uint8Array; psk: Uint8Array } | undefined,
  actor?: AuditActor,
): ReadDeviceHello | Refused {
  const handshake = new DeviceServerHandshake({
    backend: ctx.backend,
    serverId: ctx.serverId,
    staticKey: ctx.staticKey,
    ...(enroll ? { enroll } : {}),
    channel: { maxIncomingMessage: ctx.maxIncomingMessage },
  });
  try {
    const early = handshake.readHello(noiseMessage);
    return { handshake, early, key: handshake.deviceKey() };
  } catch (err) {
    return handshakeFailure(err, actor);
  }
}

async function admitDevice(
  data: Uint8Array,
  ctx: AdmissionContext,
  devices: DeviceDirectory,
): Promise<Admitted | Refused> {
  const hello = parse(data);
  if ("code" in hello) return hello;
  const read = readDeviceHello(ctx, hello.noiseMessage, undefined);
  if ("code" in read) return read;
  const { handshake, early, key } = read;
  const id = deviceIdOf(ctx.backend, key);
  const actor: AuditActor = { kind: "device", id };
  const device = await devices.byKey(toBase64Url(key));
  if (!device) return { code: CloseCode.DEVICE_UNKNOWN, actor, why: `device ${id} is not enrolled` };
  if (device.state === "revoked") return { code: CloseCode.DEVICE_REVOKED, actor, why: `device ${id} is revoked` };
  return { session: deviceSession(device, false), actor, early, reply: (welcome) => handshake.reply(welcome) };
}

async function admitEnrollment(
  data: Uint8Array,
  ctx: AdmissionContext,
  devices: DeviceDirectory,
): Promise<Admitted | Refused> {
  const hello = parse(data);
  if ("code" in hello) return hello;
  if (hello.version !== ENROLL_HELLO_VERSION) return { code: CloseCode.HELLO_INVALID, why: "not an enrollment" };
  const offerId = toBase64Url(hello.offerId);
  const offer = offerActor(ctx, offerId);
  const found = await ctx.lookupOffer(offerId);
  if ("refused" in found) return { code: REFUSAL_CODES[found.refused], actor: offer, why: `ticket ${found.refused}` };
  const read = readDeviceHello(ctx, hello.noiseMessage, { offerId: hello.offerId, psk: found.psk }, offer);
  if ("code" in read) return read;
  const { handshake, early, key } = read;
  const id = deviceIdOf(ctx.backend, key);
  const actor: AuditActor = { kind: "device", id };
  const publicKeyB64 = toBase64Url(key);
  const existing = await devices.byKey(publicKeyB64);
  if (existing?.state === "revoked") return { code: CloseCode.DEVICE_REVOKED, actor, why: `device ${id} is revoked` };
  if (existing)
    return { session: deviceSession(existing, false), actor, early, reply: (welcome) => handshake.reply(welcome) };
  // Bounded: a leaked reusable ticket must not grow devices.json without end. Checked before the ticket is spent.
  if (await devices.full()) return { code: CloseCode.DEVICE_LIMIT, actor: offer, why: "too many active devices" };
  const spent = await devices.spendTicket(offerId, id);
  if (spent !== true) return { code: REFUSAL_CODES[spent], actor: offer, why: `ticket ${spent}` };
  const rights = found.rights ?? "control";
  // The SAS comes from the final handshake hash, known once message 2 is written: reply() writes it, then
  // commit() records the device with its SAS, and only then does the caller send message 2.
  let sas = "";
  return {
    session: { kind: "device", rights, deviceId: id, offerId, enrolled: true },
    actor,
    early,
    reply: (welcome) => {
      const { message, channel, handshakeHash } = handshake.reply(welcome);
      sas = sasOf(ctx.backend, handshakeHash);
      return { message, channel };
    },
    commit: async (from) => {
      const label = found.label ?? `device ${id.slice(0, 6)}`;
      const result = await devices.record({ id, publicKeyB64, label, rights, offerId, sas, from });
      if ("refused" in result) return { code: CloseCode.DEVICE_REVOKED, actor, why: `device ${id} was revoked` };
      return { enrolled: result.device };
    },
  };
}
