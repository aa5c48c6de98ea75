/**
 * Pairing offers of this daemon: the API the CLI (`paseo daemon pair/offers`) and the running daemon use. The
 * pieces live one concept per file: what a record is (offer-record.ts), the offers.json format
 * (offers-file-format.ts), cached reads and locked atomic writes of that file (offers-file.ts), and counting uses
 * (offer-uses.ts). The CLI and the daemon share the file, so new, revoked and expired offers take effect without a
 * restart.
 *
 * Secrets never leave these modules except as the psk returned by lookupForHandshake() and the record returned by
 * createOffer()/rotate() (needed to build the link). listOffers() and errors never contain them.
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { randomBytes } from "node:crypto";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { describeInput } from "../protocol/redact.js";
import type { DeviceRights } from "../protocol/device.js";
import { assertSafeHome } from "./home-safety.js";
import {
  type CreateOfferOptions,
  type OfferRecord,
  type OfferRefusal,
  OfferStoreError,
  type OfferSummary,
  newOfferRecord,
  offerState,
  summarizeOffer,
} from "./offer-record.js";
import { OffersFile } from "./offers-file.js";
import { OfferUses, type RecordUseResult } from "./offer-uses.js";

export {
  type CreateOfferOptions,
  type OfferRecord,
  type OfferRefusal,
  type OfferState,
  OfferStoreError,
  type OfferStoreErrorCode,
  type OfferSummary,
  offerState,
  summarizeOffer,
} from "./offer-record.js";
export { MAX_INACTIVE_RECORDS, OFFERS_FILE } from "./offers-file-format.js";
export { type RecordUseResult, USE_FLUSH_MS } from "./offer-uses.js";

export type HandshakeLookup =
  | { psk: Uint8Array; id: string; once: boolean; label?: string; ticket?: true; rights?: DeviceRights }
  | { refused: OfferRefusal };

/** Device ids remembered per reusable ticket (the newest; older ones are still in devices.json with offerId). */
export const MAX_TICKET_DEVICES = 100;

export interface OfferStoreOptions {
  backend?: CryptoBackend;
  /** Clock (ms), for tests. Default Date.now. */
  now?: () => number;
}

export class OfferStore {
  readonly home: string;
  readonly path: string;
  private readonly randomBytes: (n: number) => Uint8Array;
  private readonly clock: () => number;
  private readonly file: OffersFile;
  private readonly uses: OfferUses;

  constructor(home: string, options: OfferStoreOptions = {}) {
    this.home = home;
    const backend = options.backend;
    this.randomBytes = backend ? (n) => backend.randomBytes(n) : (n) => new Uint8Array(randomBytes(n));
    this.clock = options.now ?? Date.now;
    this.file = new OffersFile(home, this.clock);
    this.path = this.file.path;
    this.uses = new OfferUses(this.file, this.clock);
  }

  private update<T>(fn: (records: OfferRecord[], now: number) => T): Promise<T> {
    return this.file.update(fn);
  }

  private load(): Promise<OfferRecord[]> {
    return this.file.load();
  }

  private effective(record: OfferRecord): OfferRecord {
    return this.uses.effective(record);
  }

  // ------------------------------------------------------------------------------------------------ CLI side

  /** Create and persist a new offer. The returned record holds the secret (to build the link) — do not log it. */
  async createOffer(options: CreateOfferOptions = {}): Promise<OfferRecord> {
    const record = newOfferRecord(options, this.clock(), this.randomBytes);
    return this.update((records) => {
      records.push(record);
      return { ...record };
    });
  }
  /** All offers, oldest first, without secrets, each with its current state. */
  async listOffers(): Promise<OfferSummary[]> {
    await assertSafeHome(this.home);
    await this.flush();
    const records = await this.load();
    const now = this.clock();
    return [...records]
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
      .map((r) => summarizeOffer(this.effective(r), now));
  }

  /**
   * Revoke an offer by id, by an unambiguous id prefix of at least 4 characters, or by the label of an active offer
   * (`paseo daemon offers revoke laptop`: a reader of the README cannot know the random id in advance). Revoking an
   * already revoked offer by id is a no-op. OfferStoreError OFFER_NOT_FOUND when nothing matches, OFFER_AMBIGUOUS
   * (listing the candidates' ids) when several do.
   */
  async revokeOffer(ref: string): Promise<OfferSummary> {
    return this.update((records, now) => {
      const record = this.find(records, ref, now);
      if (record.revokedAt === undefined) record.revokedAt = new Date(now).toISOString();
      return summarizeOffer(this.effective(record), now);
    });
  }

  private find(records: OfferRecord[], ref: string, now: number): OfferRecord {
    const exact = records.find((r) => r.id === ref);
    if (exact) return exact;
    // Labels only name offers that still work: after a re-pair with the same label, the old revoked or expired
    // offers must not make the label ambiguous.
    const matches = records.filter(
      (r) =>
        (ref.length >= 4 && r.id.startsWith(ref)) ||
        (r.label === ref && offerState(this.effective(r), now) === "active"),
    );
    if (matches.length === 1) return matches[0]!;
    const shown = describeInput(ref).slice(0, 40);
    if (matches.length > 1) {
      const ids = matches
        .map((r) => `${r.id}${r.label !== undefined ? ` (${describeInput(r.label)})` : ""}`)
        .join(", ");
      throw new OfferStoreError(
        "OFFER_AMBIGUOUS",
        `"${shown}" matches ${matches.length} offers: ${ids}; revoke one by its id`,
      );
    }
    throw new OfferStoreError(
      "OFFER_NOT_FOUND",
      `no offer with id "${shown}" and no active offer labelled so (see \`paseo daemon offers\`)`,
    );
  }

  /** Revoke every active (or used single-use) offer and create one new offer, in one locked update. */
  async rotate(options: CreateOfferOptions = {}): Promise<{ revoked: string[]; offer: OfferRecord }> {
    const record = newOfferRecord(options, this.clock(), this.randomBytes);
    return this.update((records, now) => {
      const revoked: string[] = [];
      for (const r of records) {
        // "used" too: a single-use offer's session may still be open, and rotating must end it (offer-sessions.ts).
        const state = offerState(this.effective(r), now);
        if (state === "active" || state === "used") {
          r.revokedAt = new Date(now).toISOString();
          revoked.push(r.id);
        }
      }
      records.push(record);
      return { revoked, offer: { ...record } };
    });
  }

  // ------------------------------------------------------------------------------------------------ daemon side

  /**
   * Look an offer up for an incoming hello. Re-reads offers.json when it changed on disk. Returns the psk for an
   * active offer, otherwise the refusal reason (→ close codes 4101 unknown, 4102 expired, 4103 revoked, 4104 used).
   */
  async lookupForHandshake(offerId: string | Uint8Array, now: number = this.clock()): Promise<HandshakeLookup> {
    const id = typeof offerId === "string" ? offerId : toBase64Url(offerId);
    const records = await this.load();
    const record = records.find((r) => r.id === id);
    if (!record) return { refused: "unknown" };
    const state = offerState(this.effective(record), now);
    if (state !== "active") return { refused: state };
    const result: HandshakeLookup = { psk: fromBase64Url(record.secretB64)!, id: record.id, once: record.once };
    if (record.label !== undefined) result.label = record.label;
    if (record.ticket) {
      result.ticket = true;
      result.rights = record.rights ?? "control";
    }
    return result;
  }

  /**
   * Spend one use of enrollment ticket `offerId` on device `deviceId`, persisted under the lock before the daemon
   * replies (so concurrent enrollments on a single-use ticket cannot both win, and a replayed hello finds it used).
   * A device the ticket already enrolled spends nothing (a retried enrollment).
   */
  async enrollDevice(offerId: string, deviceId: string): Promise<true | OfferRefusal> {
    return this.update((records, now): true | OfferRefusal => {
      const record = records.find((r) => r.id === offerId);
      if (!record) return "unknown";
      if (record.devices?.includes(deviceId) && record.revokedAt === undefined) return true;
      const state = offerState(this.effective(record), now);
      if (state !== "active") return state;
      record.uses += 1;
      record.lastUsedAt = new Date(now).toISOString();
      record.devices = [...(record.devices ?? []), deviceId].slice(-MAX_TICKET_DEVICES);
      return true;
    });
  }

  /** The records as they are on disk now (re-read only when the file changed), for the live-session checks. */
  async currentRecords(): Promise<OfferRecord[]> {
    return (await this.load()).map((r) => this.effective(r));
  }

  /**
   * Count a successful handshake (offer-uses.ts): single-use offers are accepted once, persisted before this
   * returns; reusable offers' uses are written at most every USE_FLUSH_MS. A refused result means the caller must
   * close that session (4104 for "used").
   */
  recordUse(offerId: string | Uint8Array): Promise<RecordUseResult> {
    return this.uses.record(offerId);
  }

  /** Write the counted uses of reusable offers (the daemon calls this on shutdown). */
  flush(): Promise<void> {
    return this.uses.flush();
  }
}
