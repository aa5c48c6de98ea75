/**
 * Enrolled devices (issue 16; docs/protocol.md §6): the names every branch shares. Pure: no fs, no sockets.
 * deviceId = base32lower(SHA-256("paseo/device-id/v1" ‖ devicePublicKey)[0..10]) — 16 characters, computed by both
 * sides. SAS = SHA-256("paseo/sas/v1" ‖ h) of the enrollment handshake's final hash h, first 4 bytes as u32 BE mod
 * 1,000,000, shown `123-456`: the user compares it on both ends to rule out a relay-in-the-middle with a stolen ticket.
 */
import type { CryptoBackend } from "./crypto/backend.js";
import { concatBytes, toBase32, utf8 } from "./encoding.js";

export type DeviceRights = "control" | "read-only";
export type SessionKind = "local" | "offer" | "device";
export type DeviceState = "active" | "revoked";

/** Sent in the welcome: what the daemon decided about this session. */
export interface SessionInfo {
  kind: SessionKind;
  rights: DeviceRights;
  deviceId: string | null;
  offerId: string | null;
  /** True only in the handshake that enrolled the device. */
  enrolled: boolean;
}

/** A device record as the daemon stores it in devices.json (never on the wire). */
export interface DeviceInfo {
  id: string;
  publicKeyB64: string;
  label: string;
  rights: DeviceRights;
  enrolledAt: string;
  offerId: string | null;
  sas: string;
  lastSeenAt: string | null;
  lastSeenFrom: string | null;
  state: DeviceState;
  revokedAt?: string;
}

const DEVICE_ID_DOMAIN = utf8("paseo/device-id/v1");
const SAS_DOMAIN = utf8("paseo/sas/v1");
export const DEVICE_ID_RE = /^[a-z2-7]{16}$/;

export function deviceIdOf(backend: Pick<CryptoBackend, "hash">, publicKey: Uint8Array): string {
  return toBase32(backend.hash("SHA256", concatBytes(DEVICE_ID_DOMAIN, publicKey)).subarray(0, 10));
}

export function sasOf(backend: Pick<CryptoBackend, "hash">, handshakeHash: Uint8Array): string {
  const digest = backend.hash("SHA256", concatBytes(SAS_DOMAIN, handshakeHash));
  const n = new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false) % 1_000_000;
  const digits = n.toString().padStart(6, "0");
  return `${digits.slice(0, 3)}-${digits.slice(3)}`;
}

export function isDeviceRights(value: unknown): value is DeviceRights {
  return value === "control" || value === "read-only";
}
