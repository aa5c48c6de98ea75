/**
 * Per-IP admission control: a cap on open connections and a token-bucket connection rate. Keeps one host from
 * exhausting sockets or burning CPU on registration challenges. Rejected connections are closed with 4007 by the
 * caller (after the upgrade, so the peer sees a named code rather than a bare HTTP error).
 *
 * IPv6 clients are grouped by /64: one host usually owns a whole /64, so per-address limits would be no limit.
 */

export type Admission = "ok" | "too-many-connections" | "too-fast";

interface Entry {
  active: number;
  tokens: number;
  refilledAt: number;
}

export class IpLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly burst: number;

  constructor(
    private readonly maxConnections: number,
    private readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.burst = Math.max(1, 2 * ratePerSecond);
  }

  /** Admit one connection attempt. Every attempt spends a token; only admitted ones count as active. */
  admit(key: string): Admission {
    const entry = this.refill(key);
    if (entry.tokens < 1) return "too-fast";
    entry.tokens -= 1;
    if (entry.active >= this.maxConnections) return "too-many-connections";
    entry.active++;
    return "ok";
  }

  /** A connection admitted before this limiter existed (rebuilt after hibernation): count it, spend nothing. */
  restore(key: string): void {
    this.refill(key).active++;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry && entry.active > 0) entry.active--;
  }

  /** Drop entries that are idle and full again, so the table does not grow with every address ever seen. */
  sweep(): void {
    for (const [key, entry] of this.entries) {
      if (entry.active === 0 && this.refill(key).tokens >= this.burst) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private refill(key: string): Entry {
    const now = this.now();
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { active: 0, tokens: this.burst, refilledAt: now };
      this.entries.set(key, entry);
      return entry;
    }
    const elapsed = Math.max(0, now - entry.refilledAt) / 1000;
    entry.tokens = Math.min(this.burst, entry.tokens + elapsed * this.ratePerSecond);
    entry.refilledAt = now;
    return entry;
  }
}

/** The limiter key for an address: IPv4 as is (also when IPv4-mapped), IPv6 reduced to its /64 prefix. */
export function limiterKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  const [head = "", tail] = bare.split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const fill =
    tail === undefined ? [] : new Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill("0");
  const groups = [...headParts, ...fill, ...tailParts].slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16));
  return `${groups.join(":")}::/64`;
}
