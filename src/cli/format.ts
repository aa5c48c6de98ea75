/** Human-readable renderings of agents and server info for the CLI. */
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo, ServerInfo } from "../protocol/rpc.js";
import { table } from "./output.js";

export function agentStatus(a: AgentInfo): string {
  if (a.state === "exited") return `exited(${a.exitCode})`;
  if (a.state === "killed") return `killed(${a.signal ?? "?"})${a.reason === "daemon-stopped" ? " by daemon" : ""}`;
  return a.state;
}

function age(iso: string | null): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function agentsTable(agents: AgentInfo[]): string {
  if (agents.length === 0) return "no agents";
  return table(
    ["ID", "NAME", "STATUS", "PID", "STARTED", "COMMAND"],
    agents.map((a) => [a.id, a.name, agentStatus(a), a.pid === null ? "-" : String(a.pid), age(a.startedAt), a.argv.join(" ").slice(0, 60)]),
  );
}

function bytes(n: number | null): string {
  if (n === null) return "?";
  const gib = n / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

export function serverInfoText(s: ServerInfo): string {
  const m = s.metrics;
  return [
    `server      ${s.serverId}`,
    `fingerprint ${s.fingerprint}`,
    `host        ${s.hostname} (${s.platform}/${s.arch})`,
    `versions    paseo ${s.paseoVersion}, protocol ${s.protocolVersion}`,
    `cpu         ${m.cpuPercent}%   load ${m.load.map((l) => l.toFixed(2)).join(" ")}`,
    `memory      ${bytes(m.memUsed)} / ${bytes(m.memTotal)}`,
    `disk        ${bytes(m.diskUsed)} / ${bytes(m.diskTotal)}`,
  ]
    .map(escapeControls) // every field is the daemon's word
    .join("\n");
}
