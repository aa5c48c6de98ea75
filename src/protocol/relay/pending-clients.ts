/**
 * Client legs that have not sent their first message yet, grouped by (source address, serverId). The serverId is
 * public, so without this one address could park silent sockets on a daemon until its handshake slots are full
 * (issue: 64 silent sockets locked every client out). Each group holds at most `perSourcePerServer`; a newcomer
 * beyond that evicts the group's *oldest* silent leg (4007) rather than being refused, because the newcomer may be
 * an honest client behind the same address (NAT, the same machine) who will speak within one round trip — while
 * the oldest silent socket has already shown it is not going to.
 *
 * Sources are keyed like the per-IP limiter (IPv4 address, IPv6 /64). The tag sent to the daemon (§5.3) is an HMAC
 * of that key under a key that lives only in this relay (process, or Durable Object — where the key is kept with the
 * daemon's socket across hibernation): stable per source, meaningless to the daemon.
 */
import type { CryptoBackend } from "../crypto/backend.js";
import { utf8 } from "../encoding.js";
import { SOURCE_TAG_BYTES } from "../relay-mux.js";

export interface PendingLeg {
  /** Lose the place: the relay closes this leg with 4007. */
  evict(): void;
}

export class PendingClients {
  private readonly groups = new Map<string, Set<PendingLeg>>();
  /** The HMAC key of the source tags (fresh per relay unless a restored one is given). */
  readonly tagKey: Uint8Array;

  constructor(
    private readonly perSourcePerServer: number,
    private readonly backend: CryptoBackend,
    tagKey?: Uint8Array,
  ) {
    this.tagKey = tagKey ?? backend.randomBytes(32);
  }

  /** Register a silent leg; evicts the group's oldest when the group is over its cap. */
  add(source: string, serverId: string, leg: PendingLeg): void {
    const key = `${source}|${serverId}`;
    let group = this.groups.get(key);
    if (!group) {
      group = new Set();
      this.groups.set(key, group);
    }
    group.add(leg);
    while (group.size > this.perSourcePerServer) {
      const oldest = group.values().next().value as PendingLeg;
      group.delete(oldest);
      oldest.evict();
    }
  }

  /** The leg spoke, or closed. Idempotent. */
  remove(source: string, serverId: string, leg: PendingLeg): void {
    const key = `${source}|${serverId}`;
    const group = this.groups.get(key);
    if (!group?.delete(leg)) return;
    if (group.size === 0) this.groups.delete(key);
  }

  /** Number of groups (for tests and leak checks). */
  get size(): number {
    return this.groups.size;
  }

  /** The opaque per-source tag put in OPEN (§5.3). */
  tag(source: string): Uint8Array {
    return this.backend.hmac("SHA256", this.tagKey, utf8(source)).slice(0, SOURCE_TAG_BYTES);
  }
}
