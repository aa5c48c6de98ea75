/**
 * The daemon's handshake slots (docs/protocol.md §10): at most `max` connections between "socket opened" and
 * "message 2 sent". A slot is *waiting* until the client's hello arrives, then *working* (offer lookup + Noise).
 *
 * Why eviction rather than refusal: the serverId is public (it is in every link), so anyone can open silent
 * connections. If a full table simply refused newcomers (4105), whoever holds the slots — with sockets that never
 * say anything — locks every honest client out. Instead, when the table is full, a newcomer takes the slot of the
 * oldest *waiting* connection of the *busiest* source (most waiting connections). An honest client sends its hello
 * within one round trip of connecting, so it stops being evictable almost at once; an attacker's silent sockets are
 * the oldest waiting ones of the biggest source, so they are what goes. Refusing with 4105 remains only when every
 * slot is *working* (a real CPU-bound handshake burst), which silence cannot produce.
 *
 * Per source: one source may hold at most `maxWaitingPerSource` waiting connections; beyond that its own oldest
 * waiting one is evicted. A source is the relay's opaque per-IP tag (§5.3) or the local server's peer address;
 * connections with no source (an older relay that does not tag) share the global policy only.
 */

/** Why a waiting connection lost its slot; the connection closes with 4105 BUSY. */
export type EvictReason = "table-full" | "source-full";

export interface SlotHolder {
  /** Lose the slot: close the connection (it has sent nothing, so nothing is lost). */
  evict(reason: EvictReason): void;
}

interface Entry {
  holder: SlotHolder;
  source: string | undefined;
  waiting: boolean;
  seq: number;
}

export class HandshakeSlot {
  constructor(
    private readonly owner: HandshakeSlots,
    readonly entry: Entry,
  ) {}
  /** The hello arrived: from now on this slot cannot be taken by a newcomer. */
  working(): void {
    this.owner.markWorking(this.entry);
  }
  release(): void {
    this.owner.release(this.entry);
  }
}

export class HandshakeSlots {
  private readonly entries = new Set<Entry>();
  private readonly waitingBySource = new Map<string, Set<Entry>>();
  private seq = 0;

  constructor(
    readonly max: number,
    readonly maxWaitingPerSource: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** A slot for a new connection, evicting a waiting one if needed; undefined (→ 4105) when all slots are working. */
  acquire(holder: SlotHolder, source: string | undefined): HandshakeSlot | undefined {
    if (source !== undefined) {
      const own = this.waitingBySource.get(source);
      if (own && own.size >= this.maxWaitingPerSource) this.evict(oldest(own), "source-full");
    }
    if (this.entries.size >= this.max) {
      const victim = this.victim();
      if (!victim) return undefined;
      this.evict(victim, "table-full");
    }
    const entry: Entry = { holder, source, waiting: true, seq: this.seq++ };
    this.entries.add(entry);
    if (source !== undefined) {
      let set = this.waitingBySource.get(source);
      if (!set) {
        set = new Set();
        this.waitingBySource.set(source, set);
      }
      set.add(entry);
    }
    return new HandshakeSlot(this, entry);
  }

  markWorking(entry: Entry): void {
    if (!entry.waiting) return;
    entry.waiting = false;
    this.unwait(entry);
  }

  release(entry: Entry): void {
    if (!this.entries.delete(entry)) return;
    this.unwait(entry);
  }

  /** The oldest waiting entry of the source with the most waiting entries (untagged connections form one source). */
  private victim(): Entry | undefined {
    const groups = new Map<string | undefined, Entry[]>();
    for (const e of this.entries) {
      if (!e.waiting) continue;
      const list = groups.get(e.source) ?? [];
      list.push(e);
      groups.set(e.source, list);
    }
    let best: Entry[] | undefined;
    for (const list of groups.values()) {
      // Ties go to the source whose oldest waiting connection is older: it has been silent the longest.
      if (!best || list.length > best.length || (list.length === best.length && list[0]!.seq < best[0]!.seq))
        best = list;
    }
    return best?.[0];
  }

  private evict(entry: Entry, reason: EvictReason): void {
    this.release(entry);
    entry.holder.evict(reason);
  }

  private unwait(entry: Entry): void {
    if (entry.source === undefined) return;
    const set = this.waitingBySource.get(entry.source);
    if (!set?.delete(entry)) return;
    if (set.size === 0) this.waitingBySource.delete(entry.source);
  }
}

function oldest(set: Set<Entry>): Entry {
  return set.values().next().value as Entry; // insertion order = age
}
