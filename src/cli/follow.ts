/**
 * `paseo logs [-f] <agent>`: print an agent's output; with -f follow it until the agent ends, then say how it ended
 * and exit with its status (like `ssh host cmd`; see ./exit-status.ts):
 *   agent build exited with code 3          → 3
 *   agent build was killed by SIGTERM       → 143 (128 + n)
 *   agent build was lost / failed / …       → 255 (its status is unknown)
 *
 * A follower never ends silently. When the connection drops — the relay restarts, the network blips, the daemon
 * stops or dies — it says so on stderr and keeps trying for --reconnect-timeout seconds (default 30): agents outlive
 * a daemon restart, so the follow resumes where it stopped, nothing lost or repeated (ResilientHost). When the time
 * is up it says why and exits 255.
 */
import { resolveAgentRef } from "../client/agent-ref.js";
import { followLogs, type LogChunk } from "../client/logs.js";
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo } from "../protocol/rpc.js";
import { openClient, type ClientFlags } from "./client-factory.js";
import { EXIT_PASEO_FAILED, signalExitStatus } from "./exit-status.js";
import { info } from "./output.js";
import { ResilientHost } from "./resilient-host.js";

/** Default --reconnect-timeout: how long a follower keeps trying after it lost the daemon before it exits 255. */
export const DEFAULT_RECONNECT_TIMEOUT_S = 30;

export interface LogsFlags extends ClientFlags {
  follow?: boolean;
  since?: number;
  reconnectTimeout?: number;
}

export async function runLogs(ref: string, flags: LogsFlags): Promise<void> {
  if (!flags.follow) {
    const client = await openClient(flags);
    try {
      const agent = await resolveAgentRef(client, ref);
      await print(client.logs(agent.id, { since: flags.since }));
    } finally {
      client.close();
    }
    return;
  }
  const host = await ResilientHost.open(flags, flags.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT_S);
  try {
    const agent = await resolveAgentRef(host.daemon, ref);
    await print(followLogs(host, agent.id, { follow: true, since: flags.since }));
    const { message, status } = describeEnd(await host.daemon.getAgent(agent.id));
    info(message);
    process.exitCode = status;
  } finally {
    host.close();
  }
}

async function print(chunks: AsyncIterable<LogChunk>): Promise<void> {
  for await (const chunk of chunks) {
    const out = chunk.stream === "stderr" ? process.stderr : process.stdout;
    if (!out.write(chunk.data)) await new Promise((r) => out.once("drain", r));
  }
}

/** How an agent ended, as one stderr line and an exit status. Exported for unit tests. */
export function describeEnd(a: AgentInfo): { message: string; status: number } {
  const who = `agent ${escapeControls(a.name || a.id)}`;
  const reason = a.reason ? escapeControls(a.reason) : undefined;
  switch (a.state as string) {
    case "exited":
      return { message: `${who} exited with code ${a.exitCode}`, status: a.exitCode ?? EXIT_PASEO_FAILED };
    case "killed":
      if (a.signal) {
        const by = a.reason === "daemon-stopped" ? " when the daemon stopped" : "";
        return { message: `${who} was killed by ${escapeControls(a.signal)}${by}`, status: signalExitStatus(a.signal) };
      }
      return {
        message: `${who} was lost: ${a.reason === "daemon-stopped" ? "the daemon stopped while it ran" : (reason ?? "it ended without a status")}, so its exit status is unknown`,
        status: EXIT_PASEO_FAILED,
      };
    case "lost":
      return {
        message: `${who} was lost${reason ? `: ${reason}` : ""}; its exit status is unknown`,
        status: EXIT_PASEO_FAILED,
      };
    case "failed":
      return { message: `${who} failed${reason ? `: ${reason}` : ""}`, status: EXIT_PASEO_FAILED };
    case "running":
      return { message: `the log stream of ${who} ended while it is still running`, status: EXIT_PASEO_FAILED };
    default:
      return { message: `${who} ended in state "${escapeControls(String(a.state))}"`, status: EXIT_PASEO_FAILED };
  }
}
