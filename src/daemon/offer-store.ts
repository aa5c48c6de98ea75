/**
 * Pairing offers of this daemon, persisted in <home>/offers.json ({v:1, offers: OfferRecord[]}, mode 0600, written
 * atomically under a cross-process lock). The CLI (`paseo daemon pair/offers`) and the running daemon share the
 * file: the daemon re-reads it whenever it changed on disk (stat ino + size + mtime per lookup), so new, revoked
 * and expired offers take effect without a restart.
 *
 * Secrets never leave this module except as the psk returned by lookupForHandshake() and the record returned by
 * createOffer()/rotate() (needed to build the link). listOffers() and errors never contain them.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { randomBytes } from "node:crypto";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { MAX_OFFER_LABEL_CHARS } from "../protocol/offer.js";
import { OFFER_ID_LEN } from "../protocol/handshake.js";
import { PSK_LEN } from "../protocol/noise/index.js";
import { describeInput } from "../protocol/redact.js";
import { assertSafeHome } from "./home-safety.js";
import { HomeError, SECRET_FILE_MODE, ensureHome, readJsonFile, withFileLock, writeFileAtomic } from "./home.js";

export const OFFERS_FILE = "offers.json";
/** Inactive records beyond this many are pruned (oldest first) so the file stays small. */
export const MAX_INACTIVE_RECORDS = 200;
/**
 * How long uses of reusable offers may wait in memory before they are written: `paseo daemon offers` (another
 * process, reading the file) is at most this far behind the running daemon, and says so.
 */
export const USE_FLUSH_MS = 1000;

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
  lastUsedAt?: string;
  revokedAt?: string;
}

export type OfferState = "active" | "expired" | "revoked" | "used";
export type OfferRefusal = "unknown" | "expired" | "revoked" | "used";

/** A record without its secret, plus its state at listing time. */
export type OfferSummary = Omit<OfferRecord, "secretB64"> & { state: OfferState };

export type HandshakeLookup =
  | { psk: Uint8Array; id: string; once: boolean; label?: string }
  | { refused: OfferRefusal };

export type RecordUseResult = { accepted: true; uses: number } | { accepted: false; refused: OfferRefusal };

export interface CreateOfferOptions {
  label?: string;
  /** Lifetime in ms; no expiry when omitted. */
  ttlMs?: number;
  once?: boolean;
}

export type OfferStoreErrorCode = "OFFER_STORE_CORRUPT" | "OFFER_STORE_UNREADABLE" | "OFFER_NOT_FOUND" | "OFFER_AMBIGUOUS" | "OFFER_OPTIONS";

export class OfferStoreError extends PaseoError {
  declare readonly code: OfferStoreErrorCode;
  constructor(code: OfferStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface OfferStoreOptions {
  backend?: CryptoBackend;
  /** Clock (ms), for tests. Default Date.now. */
  now?: () => number;
}

/** State of a record at `now`: revoked > used > expired > active. */
export function offerState(record: OfferRecord, now: number = Date.now()): OfferState {
  if (record.revokedAt !== undefined) return "revoked";
  if (record.once && record.uses > 0) return "used";
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return "expired";
  return "active";
}

export function summarizeOffer(record: OfferRecord, now: number = Date.now()): OfferSummary {
  const { secretB64: _secret, ...rest } = record;
  void _secret;
  return { ...rest, state: offerState(record, now) };
}

interface Snapshot {
  records: OfferRecord[];
  /** stat signature of the file this snapshot came from ("" = no file). */
  sig: string;
}

function statSig(st: { ino: number | bigint; size: number | bigint; mtimeMs: number } | undefined): string {
  return st === undefined ? "" : `${st.ino}:${st.size}:${st.mtimeMs}`;
}

function isIso(value: unknown): value is string {
  return typeof value === "string" && Number.isFinite(Date.parse(value));
}

export class OfferStore {
  readonly home: string;
  readonly path: string;
  private readonly randomBytes: (n: number) => Uint8Array;
  private readonly clock: () => number;
  private snapshot: Snapshot | undefined;
  /** Single-use offers consumed by this process (reserved synchronously, before the write lands). */
  private readonly consumed = new Set<string>();
  /** Uses of reusable offers not yet written: counted per handshake, flushed in one write (see recordUse). */
  private readonly pendingUses = new Map<string, { count: number; lastUsedAt: string }>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(home: string, options: OfferStoreOptions = {}) {
    this.home = home;
    this.path = join(home, OFFERS_FILE);
    const backend = options.backend;
    this.randomBytes = backend ? (n) => backend.randomBytes(n) : (n) => new Uint8Array(randomBytes(n));
    this.clock = options.now ?? Date.now;
  }

  // ------------------------------------------------------------------------------------------------ file access

  private corrupt(detail: string): OfferStoreError {
    return new OfferStoreError(
      "OFFER_STORE_CORRUPT",
      `offer store ${this.path} is corrupt (${detail}). Fix it, or move it away to start with no offers ` +
        "(devices paired with the old offers must re-pair).",
    );
  }

  private parse(value: unknown): OfferRecord[] {
    if (value === undefined) return [];
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.corrupt("not a JSON object");
    const f = value as Record<string, unknown>;
    if (f.v !== 1) throw this.corrupt(`unsupported format version ${JSON.stringify(f.v) ?? "missing"}, expected 1`);
    if (!Array.isArray(f.offers)) throw this.corrupt('"offers" must be an array');
    return f.offers.map((raw, i) => {
      const where = `offer #${i + 1}`;
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw this.corrupt(`${where} is not an object`);
      const r = raw as Record<string, unknown>;
      if (typeof r.id !== "string" || fromBase64Url(r.id)?.length !== OFFER_ID_LEN) throw this.corrupt(`${where} has a bad id`);
      const at = `offer ${r.id}`;
      if (typeof r.secretB64 !== "string" || fromBase64Url(r.secretB64)?.length !== PSK_LEN) {
        throw this.corrupt(`${at} has a bad secret (expected 32 bytes of base64url)`);
      }
      if (!isIso(r.createdAt)) throw this.corrupt(`${at} has a bad createdAt`);
      if (typeof r.once !== "boolean") throw this.corrupt(`${at}: "once" must be true or false`);
      if (typeof r.uses !== "number" || !Number.isInteger(r.uses) || r.uses < 0) throw this.corrupt(`${at}: "uses" must be a count`);
      for (const k of ["expiresAt", "lastUsedAt", "revokedAt"] as const) {
        if (r[k] !== undefined && !isIso(r[k])) throw this.corrupt(`${at} has a bad ${k}`);
      }
      if (r.label !== undefined && typeof r.label !== "string") throw this.corrupt(`${at} has a bad label`);
      const rec: OfferRecord = { id: r.id, secretB64: r.secretB64, createdAt: r.createdAt, once: r.once, uses: r.uses };
      if (r.label !== undefined) rec.label = r.label as string;
      if (r.expiresAt !== undefined) rec.expiresAt = r.expiresAt as string;
      if (r.lastUsedAt !== undefined) rec.lastUsedAt = r.lastUsedAt as string;
      if (r.revokedAt !== undefined) rec.revokedAt = r.revokedAt as string;
      return rec;
    });
  }

  private async stat(): Promise<string> {
    try {
      return statSig(await fs.stat(this.path));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT") return "";
      throw new OfferStoreError("OFFER_STORE_UNREADABLE", `cannot read offer store ${this.path}: ${code ?? String(err)}`, { cause: err });
    }
  }

  /** Re-read the file if its stat signature differs from the cached snapshot. */
  private async load(force = false): Promise<OfferRecord[]> {
    const sig = await this.stat();
    if (!force && this.snapshot && this.snapshot.sig === sig) return this.snapshot.records;
    let value: unknown;
    try {
      value = await readJsonFile(this.path);
    } catch (err) {
      if (err instanceof HomeError && err.code === "FILE_CORRUPT") throw this.corrupt("not valid JSON");
      if (err instanceof HomeError && err.code === "FILE_UNSAFE") throw err; // its message says the fix
      throw new OfferStoreError("OFFER_STORE_UNREADABLE", err instanceof Error ? err.message : String(err), { cause: err });
    }
    const records = this.parse(value);
    // The signature taken before the read may be older than what we read: that only causes one extra re-read later.
    this.snapshot = { records, sig: value === undefined ? "" : sig };
    return records;
  }

  private prune(records: OfferRecord[], now: number): OfferRecord[] {
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

  /** Read-modify-write under the lock. `fn` mutates the fresh record list and returns a result. */
  private async update<T>(fn: (records: OfferRecord[], now: number) => T): Promise<T> {
    await ensureHome(this.home);
    return withFileLock(this.path, async () => {
      const records = (await this.load(true)).map((r) => ({ ...r }));
      const now = this.clock();
      const result = fn(records, now);
      const kept = this.prune(records, now);
      await writeFileAtomic(this.path, `${JSON.stringify({ v: 1, offers: kept }, null, 2)}\n`, SECRET_FILE_MODE);
      this.snapshot = { records: kept, sig: await this.stat() };
      return result;
    });
  }

  private effective(record: OfferRecord): OfferRecord {
    return this.consumed.has(record.id) && record.once && record.uses === 0 ? { ...record, uses: 1 } : record;
  }

  // ------------------------------------------------------------------------------------------------ CLI side

  /** Create and persist a new offer. The returned record holds the secret (to build the link) — do not log it. */
  async createOffer(options: CreateOfferOptions = {}): Promise<OfferRecord> {
    const record = this.newRecord(options, this.clock());
    return this.update((records) => {
      records.push(record);
      return { ...record };
    });
  }

  /** A random offer id that never starts with "-", so `paseo daemon offers revoke <id>` cannot read it as a flag. */
  private newOfferId(): string {
    for (;;) {
      const id = toBase64Url(this.randomBytes(OFFER_ID_LEN));
      if (!id.startsWith("-")) return id;
    }
  }

  private newRecord(options: CreateOfferOptions, now: number): OfferRecord {
    const { label, ttlMs, once } = options;
    if (label !== undefined) {
      const chars = [...label].length;
      if (chars === 0 || chars > MAX_OFFER_LABEL_CHARS) {
        throw new OfferStoreError("OFFER_OPTIONS", `label must be 1 to ${MAX_OFFER_LABEL_CHARS} characters (got ${chars})`);
      }
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(label)) throw new OfferStoreError("OFFER_OPTIONS", "label must not contain control characters");
    }
    if (ttlMs !== undefined && (!Number.isFinite(ttlMs) || ttlMs <= 0)) {
      throw new OfferStoreError("OFFER_OPTIONS", `ttl must be a positive duration (got ${ttlMs} ms)`);
    }
    const record: OfferRecord = {
      id: this.newOfferId(),
      secretB64: toBase64Url(this.randomBytes(PSK_LEN)),
      createdAt: new Date(now).toISOString(),
      once: once === true,
      uses: 0,
    };
    if (label !== undefined) record.label = label;
    if (ttlMs !== undefined) record.expiresAt = new Date(now + ttlMs).toISOString();
    return record;
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
      (r) => (ref.length >= 4 && r.id.startsWith(ref)) || (r.label === ref && offerState(this.effective(r), now) === "active"),
    );
    if (matches.length === 1) return matches[0]!;
    const shown = describeInput(ref).slice(0, 40);
    if (matches.length > 1) {
      const ids = matches.map((r) => `${r.id}${r.label !== undefined ? ` (${describeInput(r.label)})` : ""}`).join(", ");
      throw new OfferStoreError("OFFER_AMBIGUOUS", `"${shown}" matches ${matches.length} offers: ${ids}; revoke one by its id`);
    }
    throw new OfferStoreError("OFFER_NOT_FOUND", `no offer with id "${shown}" and no active offer labelled so (see \`paseo daemon offers\`)`);
  }

  /** Revoke every active (or used single-use) offer and create one new offer, in one locked update. */
  async rotate(options: CreateOfferOptions = {}): Promise<{ revoked: string[]; offer: OfferRecord }> {
    const record = this.newRecord(options, this.clock());
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
    return result;
  }

  /** The records as they are on disk now (re-read only when the file changed), for the live-session checks. */
  async currentRecords(): Promise<OfferRecord[]> {
    return (await this.load()).map((r) => this.effective(r));
  }

  /**
   * Count a successful handshake. For a single-use offer only the first success is accepted: the reservation is
   * made synchronously in memory (so two concurrent handshakes cannot both win), then persisted under the lock
   * before the caller goes on. A refused result means the caller must close that session (4104 for "used").
   *
   * Reusable offers only need a counter, so their uses are kept in memory and written at most every
   * USE_FLUSH_MS in one locked write (and by listOffers / flush()): a reconnect storm after a relay restart must not
   * queue one fsync'd read-modify-write of offers.json per client.
   */
  async recordUse(offerId: string | Uint8Array): Promise<RecordUseResult> {
    const id = typeof offerId === "string" ? offerId : toBase64Url(offerId);
    const cached = (await this.load()).find((r) => r.id === id);
    if (cached && !cached.once) {
      if (cached.revokedAt !== undefined) return { accepted: false, refused: "revoked" };
      const pending = this.pendingUses.get(id) ?? { count: 0, lastUsedAt: "" };
      pending.count += 1;
      pending.lastUsedAt = new Date(this.clock()).toISOString();
      this.pendingUses.set(id, pending);
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        this.flush().catch(() => {}); // kept pending; retried at the next use, listing or close
      }, USE_FLUSH_MS);
      this.flushTimer.unref?.();
      return { accepted: true, uses: cached.uses + pending.count };
    }
    if (cached?.once) {
      if (this.consumed.has(id) || cached.uses > 0) return { accepted: false, refused: "used" };
      this.consumed.add(id); // synchronous: the first caller wins
    }
    return this.update((records, now): RecordUseResult => {
      const record = records.find((r) => r.id === id);
      if (!record) return { accepted: false, refused: "unknown" };
      if (record.revokedAt !== undefined) return { accepted: false, refused: "revoked" };
      if (record.once) {
        const reservedByUs = cached?.once === true;
        if (record.uses > 0 || (!reservedByUs && this.consumed.has(id))) return { accepted: false, refused: "used" };
        this.consumed.add(id);
      }
      record.uses += 1;
      record.lastUsedAt = new Date(now).toISOString();
      return { accepted: true, uses: record.uses };
    });
  }

  /** Write the counted uses of reusable offers (the daemon calls this on shutdown). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingUses.size === 0) return;
    const batch = new Map(this.pendingUses);
    this.pendingUses.clear();
    try {
      await this.update((records) => {
        for (const record of records) {
          const use = batch.get(record.id);
          if (!use) continue;
          record.uses += use.count;
          record.lastUsedAt = use.lastUsedAt;
        }
      });
    } catch (err) {
      for (const [id, use] of batch) {
        const later = this.pendingUses.get(id);
        this.pendingUses.set(id, { count: use.count + (later?.count ?? 0), lastUsedAt: later?.lastUsedAt ?? use.lastUsedAt });
      }
      throw err;
    }
  }
}
