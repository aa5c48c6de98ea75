/** Human-readable values for the app (mirrors src/cli/format.ts so CLI and app say the same thing). */
import type { AgentInfo, ConnectionState } from "../index.js";

export function agentStatus(a: AgentInfo): string {
  if (a.state === "exited") return `exited (${a.exitCode})`;
  if (a.state === "killed") return `killed (${a.signal ?? "?"})${a.reason === "daemon-stopped" ? " by daemon" : ""}`;
  return a.state;
}

export function age(iso: string | null, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function bytes(n: number | null): string {
  if (n === null) return "?";
  const gib = n / 1024 ** 3;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  const mib = n / 1024 ** 2;
  if (mib >= 1) return `${Math.round(mib)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

export function percent(part: number | null, total: number | null): number | undefined {
  if (part === null || total === null || total <= 0) return undefined;
  return Math.min(100, Math.max(0, (part / total) * 100));
}

export function uptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

export const STATE_LABEL: Record<ConnectionState, string> = {
  idle: "Disconnected",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Closed",
};
