/**
 * Access to offers.json shared by the CLI and the running daemon: reads are cached and re-done only when the file's
 * stat signature (ino + size + mtime) changed, so new, revoked and expired offers take effect without a restart at
 * the cost of one stat per lookup; writes are read-modify-write under a cross-process lock, atomic, mode 0600.
 * The cache and the lock are one concept: a locked write refreshes the cache with exactly what it wrote.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { HomeError, SECRET_FILE_MODE, ensureHome, readJsonFile, withFileLock, writeFileAtomic } from "./home.js";
import { type OfferRecord, OfferStoreError } from "./offer-record.js";
import {
  OFFERS_FILE,
  offersFileCorrupt,
  parseOffersFile,
  pruneInactive,
  serializeOffersFile,
} from "./offers-file-format.js";

interface Snapshot {
  records: OfferRecord[];
  /** stat signature of the file this snapshot came from ("" = no file). */
  sig: string;
}

function statSig(st: { ino: number | bigint; size: number | bigint; mtimeMs: number } | undefined): string {
  return st === undefined ? "" : `${st.ino}:${st.size}:${st.mtimeMs}`;
}

export class OffersFile {
  readonly path: string;
  private snapshot: Snapshot | undefined;

  constructor(
    readonly home: string,
    private readonly clock: () => number,
  ) {
    this.path = join(home, OFFERS_FILE);
  }

  private async stat(): Promise<string> {
    try {
      return statSig(await fs.stat(this.path));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT") return "";
      throw new OfferStoreError(
        "OFFER_STORE_UNREADABLE",
        `cannot read offer store ${this.path}: ${code ?? String(err)}`,
        { cause: err },
      );
    }
  }

  /** The records on disk, re-read only if the stat signature differs from the cached snapshot (or `force`). */
  async load(force = false): Promise<OfferRecord[]> {
    const sig = await this.stat();
    if (!force && this.snapshot && this.snapshot.sig === sig) return this.snapshot.records;
    let value: unknown;
    try {
      value = await readJsonFile(this.path);
    } catch (err) {
      if (err instanceof HomeError && err.code === "FILE_CORRUPT") throw offersFileCorrupt(this.path, "not valid JSON");
      if (err instanceof HomeError && err.code === "FILE_UNSAFE") throw err; // its message says the fix
      throw new OfferStoreError("OFFER_STORE_UNREADABLE", err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
    const records = parseOffersFile(value, this.path);
    // The signature taken before the read may be older than what we read: that only causes one extra re-read later.
    this.snapshot = { records, sig: value === undefined ? "" : sig };
    return records;
  }

  /** Read-modify-write under the lock. `fn` mutates the fresh record list and returns a result. */
  async update<T>(fn: (records: OfferRecord[], now: number) => T): Promise<T> {
    await ensureHome(this.home);
    return withFileLock(this.path, async () => {
      const records = (await this.load(true)).map((r) => ({ ...r }));
      const now = this.clock();
      const result = fn(records, now);
      const kept = pruneInactive(records, now);
      await writeFileAtomic(this.path, serializeOffersFile(kept), SECRET_FILE_MODE);
      this.snapshot = { records: kept, sig: await this.stat() };
      return result;
    });
  }
}
