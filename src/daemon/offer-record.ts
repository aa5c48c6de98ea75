/**
 * What one pairing offer of this daemon is: its persisted record, its state at a given time, its secret-free summary,
 * and how a new one is made. No I/O here (offers-file.ts reads and writes them, offer-store.ts is the API).
 */
import { toBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { OFFER_ID_LEN } from "../protocol/handshake.js";
import { PSK_LEN } from "../protocol/noise/index.js";
import { offerLabelProblem } from "../protocol/offer-label.js";
import type { DeviceRights } from "../protocol/device.js";

export interface OfferRecord {
  /** base64url, 12 bytes — the offerId in the offer and the hello. */
  id: string;
  /** base64url, 32 bytes — the Noise psk. */
  secretB64: string;
  label?: string;
  createdAt: string;
  expiresAt?: string;
  /** Single use: after one successful handshake the offer is "used". */
  once: boolean;
  uses: number;
  /**
   * An enrollment ticket (offer v4, docs/protocol.md §3): it admits only 0x03 hellos, each enrolling one device
   * (a 0x01 hello with it is refused with 4115). Absent = a bearer offer (v3).
   */
  ticket?: true;
  /** Rights of the devices a ticket enrolls (absent = control). */
  rights?: DeviceRights;
  /** A ticket that enrolls up to this many devices (`pair --uses N`); absent with once=false = unlimited. */
  maxUses?: number;
  /** The devices this ticket enrolled, oldest first. */
  devices?: string[];
  lastUsedAt?: string;
  revokedAt?: string;
}

export type OfferState = "active" | "expired" | "revoked" | "used";
export type OfferRefusal = "unknown" | "expired" | "revoked" | "used";

/** A record without its secret, plus its state at listing time. */
export type OfferSummary = Omit<OfferRecord, "secretB64"> & { state: OfferState };

export interface CreateOfferOptions {
  label?: string;
  /** Lifetime in ms; no expiry when omitted. */
  ttlMs?: number;
  once?: boolean;
  /** Make an enrollment ticket (v4) instead of a bearer offer (v3). */
  ticket?: boolean;
  /** Tickets only: rights of the devices it enrolls. */
  rights?: DeviceRights;
  /** Tickets only: how many devices it may enroll (1 = single use, the default for tickets via `once`). */
  maxUses?: number;
}

export type OfferStoreErrorCode =
  | "OFFER_STORE_CORRUPT"
  | "OFFER_STORE_UNREADABLE"
  | "OFFER_NOT_FOUND"
  | "OFFER_AMBIGUOUS"
  | "OFFER_OPTIONS";

export class OfferStoreError extends PaseoError {
  declare readonly code: OfferStoreErrorCode;
  constructor(code: OfferStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** State of a record at `now`: revoked > used > expired > active. */
export function offerState(record: OfferRecord, now: number = Date.now()): OfferState {
  if (record.revokedAt !== undefined) return "revoked";
  if (record.once && record.uses > 0) return "used";
  if (record.maxUses !== undefined && record.uses >= record.maxUses) return "used";
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return "expired";
  return "active";
}

export function summarizeOffer(record: OfferRecord, now: number = Date.now()): OfferSummary {
  const { secretB64: _secret, ...rest } = record;
  void _secret;
  return { ...rest, state: offerState(record, now) };
}

/** A new active record (options checked first: OfferStoreError OFFER_OPTIONS). It holds the secret — never log it. */
export function newOfferRecord(
  options: CreateOfferOptions,
  now: number,
  randomBytes: (n: number) => Uint8Array,
): OfferRecord {
  const { label, ttlMs, once, ticket, rights, maxUses } = options;
  if ((rights !== undefined || maxUses !== undefined) && !ticket)
    throw new OfferStoreError("OFFER_OPTIONS", "rights and a use count apply to enrollment tickets only");
  if (maxUses !== undefined && (!Number.isInteger(maxUses) || maxUses < 1))
    throw new OfferStoreError("OFFER_OPTIONS", `uses must be a whole number ≥ 1 (got ${maxUses})`);
  if (label !== undefined) {
    const problem = offerLabelProblem(label);
    if (problem !== undefined) throw new OfferStoreError("OFFER_OPTIONS", `label ${problem}`);
  }
  if (ttlMs !== undefined && (!Number.isFinite(ttlMs) || ttlMs <= 0)) {
    throw new OfferStoreError("OFFER_OPTIONS", `ttl must be a positive duration (got ${ttlMs} ms)`);
  }
  const record: OfferRecord = {
    id: newOfferId(randomBytes),
    secretB64: toBase64Url(randomBytes(PSK_LEN)),
    createdAt: new Date(now).toISOString(),
    once: once === true,
    uses: 0,
  };
  if (label !== undefined) record.label = label;
  if (ticket) {
    record.ticket = true;
    record.devices = [];
    if (rights === "read-only") record.rights = rights;
    if (maxUses !== undefined && !record.once) record.maxUses = maxUses;
  }
  if (ttlMs !== undefined) record.expiresAt = new Date(now + ttlMs).toISOString();
  return record;
}

/** A random offer id that never starts with "-", so `paseo daemon offers revoke <id>` cannot read it as a flag. */
function newOfferId(randomBytes: (n: number) => Uint8Array): string {
  for (;;) {
    const id = toBase64Url(randomBytes(OFFER_ID_LEN));
    if (!id.startsWith("-")) return id;
  }
}
