/**
 * The format of <home>/devices.json: {v:1, devices: DeviceInfo[]} (docs/protocol.md §6.5). Parsing is strict: a
 * damaged file is a named error saying what to do, never a silently empty store (that would lock every device out
 * without saying why). Revoked records are kept (a revoked key is refused with 4114, not 4113) but pruned beyond
 * MAX_REVOKED_RECORDS, oldest first.
 */
import { DEVICE_ID_RE, type DeviceInfo, isDeviceRights } from "../protocol/device.js";
import { fromBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";

export const DEVICES_FILE = "devices.json";
export const MAX_REVOKED_RECORDS = 200;

export type DeviceStoreErrorCode =
  | "DEVICE_STORE_CORRUPT"
  | "DEVICE_STORE_UNREADABLE"
  | "DEVICE_NOT_FOUND"
  | "DEVICE_AMBIGUOUS";

export class DeviceStoreError extends PaseoError {
  declare readonly code: DeviceStoreErrorCode;
  constructor(code: DeviceStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function devicesFileCorrupt(path: string, detail: string): DeviceStoreError {
  return new DeviceStoreError(
    "DEVICE_STORE_CORRUPT",
    `device store ${path} is corrupt (${detail}). Fix it, or move it away to start with no devices ` +
      "(every enrolled device must then re-pair).",
  );
}

function isIso(value: unknown): value is string {
  return typeof value === "string" && Number.isFinite(Date.parse(value));
}

function optionalIso(value: unknown): boolean {
  return value === null || value === undefined || isIso(value);
}

export function parseDevicesFile(value: unknown, path: string): DeviceInfo[] {
  const corrupt = (detail: string) => devicesFileCorrupt(path, detail);
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corrupt("not a JSON object");
  const f = value as Record<string, unknown>;
  if (f.v !== 1) throw corrupt(`unsupported format version ${JSON.stringify(f.v) ?? "missing"}, expected 1`);
  if (!Array.isArray(f.devices)) throw corrupt('"devices" must be an array');
  return f.devices.map((raw, i) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw corrupt(`device #${i + 1} is not an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.id !== "string" || !DEVICE_ID_RE.test(r.id)) throw corrupt(`device #${i + 1} has a bad id`);
    const at = `device ${r.id}`;
    if (typeof r.publicKeyB64 !== "string" || fromBase64Url(r.publicKeyB64)?.length !== 32)
      throw corrupt(`${at} has a bad public key`);
    if (typeof r.label !== "string" || r.label.length === 0) throw corrupt(`${at} has a bad label`);
    if (!isDeviceRights(r.rights)) throw corrupt(`${at} has bad rights (control or read-only)`);
    if (!isIso(r.enrolledAt)) throw corrupt(`${at} has a bad enrolledAt`);
    if (r.offerId !== null && typeof r.offerId !== "string") throw corrupt(`${at} has a bad offerId`);
    if (typeof r.sas !== "string") throw corrupt(`${at} has a bad sas`);
    if (!optionalIso(r.lastSeenAt) || !optionalIso(r.revokedAt)) throw corrupt(`${at} has a bad date`);
    if (r.lastSeenFrom !== null && r.lastSeenFrom !== undefined && typeof r.lastSeenFrom !== "string")
      throw corrupt(`${at} has a bad lastSeenFrom`);
    if (r.state !== "active" && r.state !== "revoked") throw corrupt(`${at}: state must be active or revoked`);
    const device: DeviceInfo = {
      id: r.id,
      publicKeyB64: r.publicKeyB64,
      label: r.label,
      rights: r.rights,
      enrolledAt: r.enrolledAt,
      offerId: (r.offerId as string | null) ?? null,
      sas: r.sas,
      lastSeenAt: (r.lastSeenAt as string | null | undefined) ?? null,
      lastSeenFrom: (r.lastSeenFrom as string | null | undefined) ?? null,
      state: r.state,
    };
    if (typeof r.revokedAt === "string") device.revokedAt = r.revokedAt;
    return device;
  });
}

export function serializeDevicesFile(devices: DeviceInfo[]): string {
  return `${JSON.stringify({ v: 1, devices }, null, 2)}\n`;
}

export function pruneRevoked(devices: DeviceInfo[]): DeviceInfo[] {
  const revoked = devices.filter((d) => d.state === "revoked");
  if (revoked.length <= MAX_REVOKED_RECORDS) return devices;
  const drop = new Set(
    revoked
      .sort((a, b) => Date.parse(a.revokedAt ?? a.enrolledAt) - Date.parse(b.revokedAt ?? b.enrolledAt))
      .slice(0, revoked.length - MAX_REVOKED_RECORDS)
      .map((d) => d.id),
  );
  return devices.filter((d) => !drop.has(d.id));
}
