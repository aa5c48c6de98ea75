/**
 * Relay-wide counters for /health and /metrics. Each RelayObject (one per serverId) keeps the core's RelayMetrics
 * for its own sockets and sends this object the change since its last report, batched (FLUSH_MS), so the sum over
 * all relay objects is what the Node relay would report from its single process. Gauges (open connections,
 * daemons, clients) travel as deltas too.
 *
 * Why one object: /metrics must not fan out to every serverId's object (there is no list of them, and that would be
 * a side channel). Best effort: counts live in memory, so a restart of this object resets them (uptime says so).
 */
import type { RelayStats } from "../protocol/relay/metrics.js";

/** How long a RelayObject batches its counter changes before reporting them. */
export const FLUSH_MS = 100;

type Numeric = Record<string, number>;

export function emptyStats(): RelayStats {
  const perRole = () => ({ server: 0, client: 0 });
  return {
    uptimeMs: 0,
    daemons: 0,
    clients: 0,
    pendingClients: 0,
    connections: perRole(),
    connectionsTotal: perRole(),
    bytesIn: perRole(),
    bytesOut: perRole(),
    framesIn: perRole(),
    framesOut: perRole(),
    closesSent: {},
    closesReceived: {},
    authFailures: 0,
    pausesSent: 0,
    keepaliveTimeouts: 0,
  };
}

/** `now - before`, field by field (records key by key); undefined when nothing changed. uptimeMs is not a delta. */
export function statsDelta(now: RelayStats, before: RelayStats): Partial<RelayStats> | undefined {
  const delta: Record<string, unknown> = {};
  let changed = false;
  for (const [key, value] of Object.entries(now)) {
    if (key === "uptimeMs") continue;
    const old = (before as unknown as Record<string, unknown>)[key];
    if (typeof value === "number") {
      const d = value - ((old as number | undefined) ?? 0);
      if (d !== 0) {
        delta[key] = d;
        changed = true;
      }
    } else {
      const rec: Numeric = {};
      for (const [k, v] of Object.entries(value as Numeric)) {
        const d = v - ((old as Numeric | undefined)?.[k] ?? 0);
        if (d !== 0) {
          rec[k] = d;
          changed = true;
        }
      }
      if (Object.keys(rec).length > 0) delta[key] = rec;
    }
  }
  return changed ? (delta as Partial<RelayStats>) : undefined;
}

/** Add a delta into `acc` (in place). */
export function addStats(acc: RelayStats, delta: Partial<RelayStats>): void {
  const target = acc as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(delta)) {
    if (key === "uptimeMs") continue;
    if (typeof value === "number") target[key] = ((target[key] as number | undefined) ?? 0) + value;
    else if (value && typeof value === "object") {
      if (target[key] === undefined) target[key] = {};
      const rec = target[key] as Numeric;
      for (const [k, v] of Object.entries(value as Numeric)) rec[k] = (rec[k] ?? 0) + v;
    }
  }
}

/** The Durable Object holding the sums. POST /delta adds a report; GET /stats returns RelayStats as JSON. */
export class MetricsObject {
  private readonly stats = emptyStats();
  private readonly startedAt = Date.now();

  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (request.method === "POST" && path === "/delta") {
      addStats(this.stats, (await request.json()) as Partial<RelayStats>);
      return new Response(null, { status: 204 });
    }
    return Response.json({ ...this.stats, uptimeMs: Date.now() - this.startedAt });
  }
}
