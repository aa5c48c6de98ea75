/**
 * Relay counters and their Prometheus text rendering. Only counts and sizes: the relay has nothing else to report,
 * and a metrics endpoint must never become a side channel for routing ids (no serverId labels).
 */
import { closeCodeName } from "../close-codes.js";

export type Role = "server" | "client";

export interface RelayStats {
  uptimeMs: number;
  /** Daemons holding a serverId slot (authenticated). */
  daemons: number;
  /** Clients attached to a daemon. */
  clients: number;
  /** Clients waiting out the offline grace. */
  pendingClients: number;
  /** Open WebSocket connections by role (including unauthenticated and pending ones). */
  connections: Record<Role, number>;
  /** Connections accepted since start, by role. */
  connectionsTotal: Record<Role, number>;
  bytesIn: Record<Role, number>;
  bytesOut: Record<Role, number>;
  framesIn: Record<Role, number>;
  framesOut: Record<Role, number>;
  /** Close codes the relay sent, by code. */
  closesSent: Record<number, number>;
  /** Close codes received from peers (1006 = the socket ended without a close frame), by code. */
  closesReceived: Record<number, number>;
  authFailures: number;
  pausesSent: number;
  keepaliveTimeouts: number;
}

const roles: Role[] = ["server", "client"];
const perRole = (): Record<Role, number> => ({ server: 0, client: 0 });

export class RelayMetrics {
  private readonly startedAt = Date.now();
  readonly connections = perRole();
  readonly connectionsTotal = perRole();
  readonly bytesIn = perRole();
  readonly bytesOut = perRole();
  readonly framesIn = perRole();
  readonly framesOut = perRole();
  readonly closesSent = new Map<number, number>();
  readonly closesReceived = new Map<number, number>();
  authFailures = 0;
  pausesSent = 0;
  keepaliveTimeouts = 0;

  uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  opened(role: Role): void {
    this.connections[role]++;
    this.connectionsTotal[role]++;
  }

  /** A socket rebuilt after hibernation: open again in this process's gauges, but not a new connection. */
  restored(role: Role): void {
    this.connections[role]++;
  }

  closed(role: Role, receivedCode: number): void {
    this.connections[role]--;
    this.closesReceived.set(receivedCode, (this.closesReceived.get(receivedCode) ?? 0) + 1);
  }

  closeSent(code: number): void {
    this.closesSent.set(code, (this.closesSent.get(code) ?? 0) + 1);
  }

  frameIn(role: Role, bytes: number): void {
    this.framesIn[role]++;
    this.bytesIn[role] += bytes;
  }

  frameOut(role: Role, bytes: number): void {
    this.framesOut[role]++;
    this.bytesOut[role] += bytes;
  }

  snapshot(routing: { daemons: number; clients: number; pendingClients: number }): RelayStats {
    return {
      uptimeMs: this.uptimeMs(),
      ...routing,
      connections: { ...this.connections },
      connectionsTotal: { ...this.connectionsTotal },
      bytesIn: { ...this.bytesIn },
      bytesOut: { ...this.bytesOut },
      framesIn: { ...this.framesIn },
      framesOut: { ...this.framesOut },
      closesSent: Object.fromEntries(this.closesSent),
      closesReceived: Object.fromEntries(this.closesReceived),
      authFailures: this.authFailures,
      pausesSent: this.pausesSent,
      keepaliveTimeouts: this.keepaliveTimeouts,
    };
  }
}

/** Prometheus text exposition format 0.0.4. */
export function renderPrometheus(stats: RelayStats): string {
  const lines: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const byRole = (values: Record<Role, number>): Array<[string, number]> =>
    roles.map((r) => [`{role="${r}"}`, values[r]]);
  const byCode = (values: Record<number, number>): Array<[string, number]> =>
    Object.entries(values).map(([code, n]) => [`{code="${code}",name="${closeCodeName(Number(code))}"}`, n]);

  metric("paseo_relay_uptime_seconds", "gauge", "Seconds since the relay started.", [
    ["", Math.floor(stats.uptimeMs / 1000)],
  ]);
  metric("paseo_relay_daemons", "gauge", "Daemons holding a serverId slot.", [["", stats.daemons]]);
  metric("paseo_relay_clients", "gauge", "Clients attached to a daemon.", [["", stats.clients]]);
  metric("paseo_relay_pending_clients", "gauge", "Clients waiting for a daemon (offline grace).", [
    ["", stats.pendingClients],
  ]);
  metric("paseo_relay_connections", "gauge", "Open WebSocket connections by role.", byRole(stats.connections));
  metric(
    "paseo_relay_connections_total",
    "counter",
    "WebSocket connections accepted since start, by role.",
    byRole(stats.connectionsTotal),
  );
  metric("paseo_relay_bytes_in_total", "counter", "WebSocket payload bytes received, by role.", byRole(stats.bytesIn));
  metric("paseo_relay_bytes_out_total", "counter", "WebSocket payload bytes sent, by role.", byRole(stats.bytesOut));
  metric("paseo_relay_frames_in_total", "counter", "WebSocket messages received, by role.", byRole(stats.framesIn));
  metric("paseo_relay_frames_out_total", "counter", "WebSocket messages sent, by role.", byRole(stats.framesOut));
  metric("paseo_relay_closes_sent_total", "counter", "Close codes sent by the relay.", byCode(stats.closesSent));
  metric(
    "paseo_relay_closes_received_total",
    "counter",
    "Close codes received from peers.",
    byCode(stats.closesReceived),
  );
  metric("paseo_relay_auth_failures_total", "counter", "Daemon registrations that failed proof of possession.", [
    ["", stats.authFailures],
  ]);
  metric("paseo_relay_pauses_total", "counter", "PAUSE messages sent to daemons.", [["", stats.pausesSent]]);
  metric("paseo_relay_keepalive_timeouts_total", "counter", "Sockets terminated after unanswered pings.", [
    ["", stats.keepaliveTimeouts],
  ]);
  return `${lines.join("\n")}\n`;
}
