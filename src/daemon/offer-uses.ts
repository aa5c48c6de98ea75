/**
 * Counting successful handshakes per offer, the two ways the offer kinds need:
 * - single-use offers: the first success wins. The reservation is made synchronously in memory (`consumed`, so two
 *   concurrent handshakes cannot both win), then persisted under the file lock before the caller goes on; until
 *   the write lands, records are seen through effective() with the reservation applied.
 * - reusable offers only need a counter: uses are kept in memory and written at most every USE_FLUSH_MS in one
 *   locked write (and by flush()): a reconnect storm after a relay restart must not queue one fsync'd
 *   read-modify-write of offers.json per client.
 */
import { toBase64Url } from "../protocol/encoding.js";
import type { OfferRecord, OfferRefusal } from "./offer-record.js";
import type { OffersFile } from "./offers-file.js";

/**
 * How long uses of reusable offers may wait in memory before they are written: `paseo daemon offers` (another
 * process, reading the file) is at most this far behind the running daemon, and says so.
 */
export const USE_FLUSH_MS = 1000;

export type RecordUseResult = { accepted: true; uses: number } | { accepted: false; refused: OfferRefusal };

export class OfferUses {
  /** Single-use offers consumed by this process (reserved synchronously, before the write lands). */
  private readonly consumed = new Set<string>();
  /** Uses of reusable offers not yet written: counted per handshake, flushed in one write. */
  private readonly pendingUses = new Map<string, { count: number; lastUsedAt: string }>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly file: OffersFile,
    private readonly clock: () => number,
  ) {}

  /** `record` as this process sees it: a single-use offer it reserved counts as used before the write lands. */
  effective(record: OfferRecord): OfferRecord {
    return this.consumed.has(record.id) && record.once && record.uses === 0 ? { ...record, uses: 1 } : record;
  }

  /** Count a successful handshake (see the file comment). A refused result means the caller must close that session. */
  async record(offerId: string | Uint8Array): Promise<RecordUseResult> {
    const id = typeof offerId === "string" ? offerId : toBase64Url(offerId);
    const cached = (await this.file.load()).find((r) => r.id === id);
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
    return this.file.update((records, now): RecordUseResult => {
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

  /** Write the counted uses of reusable offers. */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingUses.size === 0) return;
    const batch = new Map(this.pendingUses);
    this.pendingUses.clear();
    try {
      await this.file.update((records) => {
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
        this.pendingUses.set(id, {
          count: use.count + (later?.count ?? 0),
          lastUsedAt: later?.lastUsedAt ?? use.lastUsedAt,
        });
      }
      throw err;
    }
  }
}
