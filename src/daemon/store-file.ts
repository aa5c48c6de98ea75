/**
 * A JSON file of records in the daemon's home shared by the CLI and the running daemon (offers.json, devices.json):
 * reads are cached and re-done only when the file's stat signature (ino + size + mtime) changed, so a change made by
 * the CLI takes effect in the daemon without a restart at the cost of one stat per lookup; writes are
 * read-modify-write under a cross-process lock, atomic, mode 0600. The cache and the lock are one concept: a locked
 * write refreshes the cache with exactly what it wrote. What a record is and how the file is parsed is the format's
 * business (offers-file-format.ts, devices-file-format.ts).
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { HomeError, SECRET_FILE_MODE, ensureHome, readJsonFile, withFileLock, writeFileAtomic } from "./home.js";

export interface StoreFormat<R> {
  /** The records in a parsed file (`undefined` = no file); throws the store's corrupt error otherwise. */
  parse(value: unknown, path: string): R[];
  serialize(records: R[]): string;
  /** Drop records no longer worth keeping (run on every write). */
  prune?(records: R[], now: number): R[];
  corrupt(path: string, detail: string): Error;
  unreadable(path: string, message: string, cause: unknown): Error;
}

interface Snapshot<R> {
  records: R[];
  /** stat signature of the file this snapshot came from ("" = no file). */
  sig: string;
}

function statSig(st: { ino: number | bigint; size: number | bigint; mtimeMs: number } | undefined): string {
  return st === undefined ? "" : `${st.ino}:${st.size}:${st.mtimeMs}`;
}

export class StoreFile<R extends object> {
  readonly path: string;
  private snapshot: Snapshot<R> | undefined;

  constructor(
    readonly home: string,
    readonly name: string,
    private readonly format: StoreFormat<R>,
    private readonly clock: () => number,
  ) {
    this.path = join(home, name);
  }

  private async stat(): Promise<string> {
    try {
      return statSig(await fs.stat(this.path));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT") return "";
      throw this.format.unreadable(this.path, `cannot read ${this.path}: ${code ?? String(err)}`, err);
    }
  }

  /** The records on disk, re-read only if the stat signature differs from the cached snapshot (or `force`). */
  async load(force = false): Promise<R[]> {
    const sig = await this.stat();
    if (!force && this.snapshot && this.snapshot.sig === sig) return this.snapshot.records;
    let value: unknown;
    try {
      value = await readJsonFile(this.path);
    } catch (err) {
      if (err instanceof HomeError && err.code === "FILE_CORRUPT")
        throw this.format.corrupt(this.path, "not valid JSON");
      if (err instanceof HomeError && err.code === "FILE_UNSAFE") throw err; // its message says the fix
      throw this.format.unreadable(this.path, err instanceof Error ? err.message : String(err), err);
    }
    const records = this.format.parse(value, this.path);
    // The signature taken before the read may be older than what we read: that only causes one extra re-read later.
    this.snapshot = { records, sig: value === undefined ? "" : sig };
    return records;
  }

  /** Read-modify-write under the lock. `fn` mutates the fresh record list and returns a result. */
  async update<T>(fn: (records: R[], now: number) => T): Promise<T> {
    await ensureHome(this.home);
    return withFileLock(this.path, async () => {
      const records = (await this.load(true)).map((r) => ({ ...r }));
      const now = this.clock();
      const result = fn(records, now);
      const kept = this.format.prune ? this.format.prune(records, now) : records;
      await writeFileAtomic(this.path, this.format.serialize(kept), SECRET_FILE_MODE);
      this.snapshot = { records: kept, sig: await this.stat() };
      return result;
    });
  }
}
