/**
 * Live sessions per pairing offer: an offer that is revoked (`paseo daemon offers revoke`, `pair --rotate`) or
 * expires (`--ttl`) ends every session it admitted at once, with the offer's close code (4103 revoked, 4102
 * expired, 4101 when its record vanished from offers.json) — sent as the daemon's encrypted CLOSE, then the
 * transport close (ClientConnection.close does both). docs/protocol.md §3.3.
 *
 * How the daemon learns of a revoke done by another process (the CLI writes offers.json under its lock):
 *   - fs.watch on the home directory (inotify on Linux, FSEvents/kqueue elsewhere): the CLI's atomic rename of
 *     offers.json fires an event within milliseconds; we re-read the file through the store's stat cache.
 *     A watch on the directory, not the file: the rename replaces the file's inode, which ends a per-file watch.
 *   - a backstop sweep every SWEEP_MS while sessions are open, for file systems where watch events are not
 *     delivered (network mounts, some containers). One stat per sweep: nothing is re-read unless the file changed.
 *   A signal from the CLI was rejected: it needs the pid file to be right, misses hand edits of offers.json, and a
 *   lost signal is silent; the file is the source of truth, so we watch the file.
 * Expiry needs no file change: one timer per offer with live sessions fires at its expiresAt.
 *
 * Use counting (docs/protocol.md §3.3): a reusable offer's use is counted when the session is confirmed — the first
 * authenticated transport message from the client after message 2 — because message 1 (with its early data) can be
 * replayed by the relay and only the real client can produce message 3+. A single-use offer is consumed by the first
 * hello that authenticates, before message 2 is sent (see admit()), so at most one session ever runs on it.
 */
import { watch, type FSWatcher } from "node:fs";
import { CloseCode } from "../protocol/close-codes.js";
import type { Logger } from "./logger.js";
import { OFFERS_FILE, offerState, type OfferRecord, type OfferRefusal, type OfferStore } from "./offer-store.js";

/** Backstop re-check interval when file watch events may not arrive. */
export const SWEEP_MS = 1000;
/** Largest delay setTimeout accepts; longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the tracker needs from a session: close it with a paseo close code. */
export interface OfferSession {
  close(code: number): void;
}

/** A live session's registration with the offer that admitted it. */
export interface SessionTicket {
  /** The client sent its first authenticated transport message: the handshake completed (counts the use). */
  confirm(): void;
  /** The session ended. */
  release(): void;
}

const CLOSE_FOR: Record<OfferRefusal, number> = {
  unknown: CloseCode.OFFER_UNKNOWN,
  expired: CloseCode.OFFER_EXPIRED,
  revoked: CloseCode.OFFER_REVOKED,
  used: CloseCode.OFFER_USED,
};

interface OfferEntry {
  sessions: Set<OfferSession>;
  once: boolean;
  expiryTimer?: ReturnType<typeof setTimeout>;
}

export class OfferSessions {
  private readonly byOffer = new Map<string, OfferEntry>();
  private watcher: FSWatcher | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private checking: Promise<void> | undefined;
  private recheckQueued = false;
  private stopped = false;
  /** Other files in the home directory whose changes someone wants to hear of (input.json): one watcher for all. */
  private readonly alsoWatched = new Map<string, () => void>();

  constructor(
    private readonly store: OfferStore,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Also call `onChange` when `filename` in the home directory changes (e.g. the input kill switch, input.json).
   * The same watcher serves it, so the daemon holds one watch on its home, not one per file.
   */
  alsoWatch(filename: string, onChange: () => void): void {
    this.alsoWatched.set(filename, onChange);
  }

  /** Start watching the home directory for offers.json changes (and the files given to alsoWatch). */
  start(): void {
    try {
      this.watcher = watch(this.store.home, { persistent: false }, (_event, filename) => {
        const name = filename === null ? null : String(filename);
        if (name === null || name === OFFERS_FILE) this.recheck();
        if (name === null) for (const fn of this.alsoWatched.values()) fn();
        else this.alsoWatched.get(name)?.();
      });
      this.watcher.on("error", (err) => {
        this.log("warn", `offer watch failed (${err.message}); revocations are checked every ${SWEEP_MS} ms instead`);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log(
        "warn",
        `cannot watch ${this.store.home} (${(err as Error).message}); revocations are checked every ${SWEEP_MS} ms`,
      );
    }
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const entry of this.byOffer.values()) if (entry.expiryTimer) clearTimeout(entry.expiryTimer);
    this.byOffer.clear();
  }

  /** Number of live sessions per offer id (for tests and status). */
  count(offerId: string): number {
    return this.byOffer.get(offerId)?.sessions.size ?? 0;
  }

  /**
   * Gate run after the client's hello authenticated and before message 2 is sent. A single-use offer is consumed
   * here (persisted before the session proceeds: a replayed hello finds it used, 4104). A reusable offer is only
   * checked to still be active (a revoke may have landed since the lookup); its use is counted at confirm().
   */
  async admit(offerId: string, once: boolean): Promise<true | OfferRefusal> {
    if (once) {
      const use = await this.store.recordUse(offerId);
      return use.accepted ? true : use.refused;
    }
    const found = await this.store.lookupForHandshake(offerId, this.clock());
    return "refused" in found ? found.refused : true;
  }

  /** Track a session admitted with `offerId` until its ticket is released. */
  open(offerId: string, once: boolean, session: OfferSession): SessionTicket {
    let entry = this.byOffer.get(offerId);
    if (!entry) {
      entry = { sessions: new Set(), once };
      this.byOffer.set(offerId, entry);
    }
    entry.sessions.add(session);
    this.ensureSweep();
    // A revoke may have landed between admit() and now, and the expiry timer is armed from the record: check now.
    this.recheck();
    let confirmed = false;
    let released = false;
    return {
      confirm: () => {
        if (confirmed || released || once) return; // a single-use offer was counted when admitted
        confirmed = true;
        this.store.recordUse(offerId).then(
          (use) => {
            if (!use.accepted) this.closeOffer(offerId, CLOSE_FOR[use.refused]);
          },
          (err: Error) => this.log("warn", `could not count a use of offer ${offerId.slice(0, 6)}…: ${err.message}`),
        );
      },
      release: () => {
        if (released) return;
        released = true;
        const e = this.byOffer.get(offerId);
        if (!e) return;
        e.sessions.delete(session);
        if (e.sessions.size === 0) this.forget(offerId);
      },
    };
  }

  /** Re-read offers.json (if it changed) and close the sessions of every offer that is no longer active. */
  recheck(): void {
    if (this.stopped || this.byOffer.size === 0) return;
    if (this.checking) {
      this.recheckQueued = true; // one more pass after the current one, which may have read the file too early
      return;
    }
    this.checking = this.check()
      .catch((err: Error) =>
        this.log("warn", `cannot re-check offers (${err.message}); live sessions kept until it reads again`),
      )
      .finally(() => {
        this.checking = undefined;
        if (this.recheckQueued) {
          this.recheckQueued = false;
          this.recheck();
        }
      });
  }

  private async check(): Promise<void> {
    const records = await this.store.currentRecords();
    const now = this.clock();
    for (const [offerId, entry] of [...this.byOffer]) {
      const record = records.find((r) => r.id === offerId);
      const state = sessionState(record, entry.once, now);
      if (state === "active") this.armExpiry(offerId, entry, record!);
      else this.closeOffer(offerId, CLOSE_FOR[state]);
    }
  }

  private armExpiry(_offerId: string, entry: OfferEntry, record: OfferRecord): void {
    if (entry.expiryTimer || record.expiresAt === undefined) return;
    const delay = Math.min(Math.max(0, Date.parse(record.expiresAt) - this.clock()), MAX_TIMER_MS);
    entry.expiryTimer = setTimeout(() => {
      entry.expiryTimer = undefined;
      this.recheck(); // closes with 4102 when expired; re-arms when the delay was clamped
    }, delay + 1);
    entry.expiryTimer.unref?.();
  }

  private closeOffer(offerId: string, code: number): void {
    const entry = this.byOffer.get(offerId);
    if (!entry) return;
    this.log(
      "info",
      `offer ${offerId.slice(0, 6)}… is no longer valid (${code}): closing its ${entry.sessions.size} session(s)`,
    );
    this.forget(offerId);
    for (const session of entry.sessions) session.close(code);
  }

  private forget(offerId: string): void {
    const entry = this.byOffer.get(offerId);
    if (entry?.expiryTimer) clearTimeout(entry.expiryTimer);
    this.byOffer.delete(offerId);
    if (this.byOffer.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private ensureSweep(): void {
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setInterval(() => this.recheck(), SWEEP_MS);
    this.sweepTimer.unref?.();
  }
}

/**
 * State of an offer for the sessions it already admitted: like offerState, except that "used" is the normal state
 * of a single-use offer whose one session is running (that session still ends on revoke or expiry).
 */
function sessionState(record: OfferRecord | undefined, once: boolean, now: number): "active" | OfferRefusal {
  if (!record) return "unknown";
  if (record.revokedAt !== undefined) return "revoked";
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return "expired";
  if (!once) return offerState(record, now);
  return "active";
}
