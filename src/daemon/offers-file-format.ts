/**
 * The format of <home>/offers.json: {v:1, offers: OfferRecord[]}. Parsing is strict (a damaged file is a named
 * error saying what to do, never a silently empty store); inactive records are pruned so the file stays small.
 */
import { fromBase64Url } from "../protocol/encoding.js";
import { OFFER_ID_LEN } from "../protocol/handshake.js";
import { PSK_LEN } from "../protocol/noise/index.js";
import { type DeviceRights, isDeviceRights } from "../protocol/device.js";
import { type OfferRecord, OfferStoreError, offerState } from "./offer-record.js";

export const OFFERS_FILE = "offers.json";
/** Inactive records beyond this many are pruned (oldest first) so the file stays small. */
export const MAX_INACTIVE_RECORDS = 200;

export function offersFileCorrupt(path: string, detail: string): OfferStoreError {
  return new OfferStoreError(
    "OFFER_STORE_CORRUPT",
    `offer store ${path} is corrupt (${detail}). Fix it, or move it away to start with no offers ` +
      "(devices paired with the old offers must re-pair).",
  );
}

function isIso(value: unknown): value is string {
  return typeof value === "string" && Number.isFinite(Date.parse(value));
}

/** The records in a parsed offers.json (`undefined` = no file). OfferStoreError OFFER_STORE_CORRUPT otherwise. */
export function parseOffersFile(value: unknown, path: string): OfferRecord[] {
  const corrupt = (detail: string) => offersFileCorrupt(path, detail);
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corrupt("not a JSON object");
  const f = value as Record<string, unknown>;
  if (f.v !== 1) throw corrupt(`unsupported format version ${JSON.stringify(f.v) ?? "missing"}, expected 1`);
  if (!Array.isArray(f.offers)) throw corrupt('"offers" must be an array');
  return f.offers.map((raw, i) => {
    const where = `offer #${i + 1}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw corrupt(`${where} is not an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.id !== "string" || fromBase64Url(r.id)?.length !== OFFER_ID_LEN)
      throw corrupt(`${where} has a bad id`);
    const at = `offer ${r.id}`;
    if (typeof r.secretB64 !== "string" || fromBase64Url(r.secretB64)?.length !== PSK_LEN) {
      throw corrupt(`${at} has a bad secret (expected 32 bytes of base64url)`);
    }
    if (!isIso(r.createdAt)) throw corrupt(`${at} has a bad createdAt`);
    if (typeof r.once !== "boolean") throw corrupt(`${at}: "once" must be true or false`);
    if (typeof r.uses !== "number" || !Number.isInteger(r.uses) || r.uses < 0)
      throw corrupt(`${at}: "uses" must be a count`);
    for (const k of ["expiresAt", "lastUsedAt", "revokedAt"] as const) {
      if (r[k] !== undefined && !isIso(r[k])) throw corrupt(`${at} has a bad ${k}`);
    }
    if (r.label !== undefined && typeof r.label !== "string") throw corrupt(`${at} has a bad label`);
    if (r.ticket !== undefined && r.ticket !== true) throw corrupt(`${at}: "ticket" must be true or absent`);
    if (r.rights !== undefined && !isDeviceRights(r.rights)) throw corrupt(`${at} has bad rights`);
    if (r.maxUses !== undefined && (typeof r.maxUses !== "number" || !Number.isInteger(r.maxUses) || r.maxUses < 1))
      throw corrupt(`${at}: "maxUses" must be a count ≥ 1`);
    if (r.devices !== undefined && (!Array.isArray(r.devices) || !r.devices.every((d) => typeof d === "string")))
      throw corrupt(`${at}: "devices" must be a list of device ids`);
    const rec: OfferRecord = { id: r.id, secretB64: r.secretB64, createdAt: r.createdAt, once: r.once, uses: r.uses };
    if (r.label !== undefined) rec.label = r.label as string;
    if (r.expiresAt !== undefined) rec.expiresAt = r.expiresAt as string;
    if (r.lastUsedAt !== undefined) rec.lastUsedAt = r.lastUsedAt as string;
    if (r.revokedAt !== undefined) rec.revokedAt = r.revokedAt as string;
    if (r.ticket === true) rec.ticket = true;
    if (r.rights !== undefined) rec.rights = r.rights as DeviceRights;
    if (r.maxUses !== undefined) rec.maxUses = r.maxUses as number;
    if (r.devices !== undefined) rec.devices = [...(r.devices as string[])];
    return rec;
  });
}

export function serializeOffersFile(records: OfferRecord[]): string {
  return `${JSON.stringify({ v: 1, offers: records }, null, 2)}\n`;
}

/** Keep at most MAX_INACTIVE_RECORDS inactive records, dropping the oldest. */
export function pruneInactive(records: OfferRecord[], now: number): OfferRecord[] {
  const inactive = records.filter((r) => offerState(r, now) !== "active");
  if (inactive.length <= MAX_INACTIVE_RECORDS) return records;
  const drop = new Set(
    inactive
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
      .slice(0, inactive.length - MAX_INACTIVE_RECORDS)
      .map((r) => r.id),
  );
  return records.filter((r) => !drop.has(r.id));
}
