/** Human-readable renderings of agents and server info for the CLI. */
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo, ServerInfo } from "../protocol/rpc.js";
import { table } from "./output.js";

/** A lost agent's reason goes in its STATUS cell up to this length; a longer one is printed under the table. */
export const LOST_REASON_INLINE = 24;

/** How the agent stands, in a table cell (the daemon's words are escaped by table()). */
export function agentStatus(a: AgentInfo): string {
  if (a.state === "exited") return `exited(${a.exitCode})`;
  if (a.state === "killed") return `killed(${a.signal ?? "?"})${a.reason === "daemon-stopped" ? " by daemon" : ""}`;
  if (a.state === "lost" && a.reason && a.reason.length <= LOST_REASON_INLINE) return `lost(${a.reason})`;
  return a.state;
}

/** A terminal agent's size (`100x30`); `-` for a pipe agent. */
export function agentTty(a: AgentInfo): string {
  return a.tty ? `${a.cols ?? "?"}x${a.rows ?? "?"}` : "-";
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
  const rows = table(
    ["ID", "NAME", "STATUS", "PID", "TTY", "STARTED", "COMMAND"],
    agents.map((a) => [
      a.id,
      a.name,
      agentStatus(a),
      a.pid === null ? "-" : String(a.pid),
      agentTty(a),
      age(a.startedAt),
      a.argv.join(" ").slice(0, 60),
    ]),
  );
  // Why an agent is lost is a sentence (see AgentState); it does not fit a cell, so it follows the table.
  const reasons = agents
    .filter((a) => a.state === "lost" && a.reason && a.reason.length > LOST_REASON_INLINE)
    .map((a) => escapeControls(`${a.id} lost: ${a.reason}`));
  return reasons.length === 0 ? rows : `${rows}\n\n${reasons.join("\n")}`;
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
