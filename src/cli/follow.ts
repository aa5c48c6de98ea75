/**
 * `paseo logs [-f] <agent>`: print an agent's output; with -f follow it until the agent ends, then say how it ended
 * and exit with its status (like `ssh host cmd`; see ./exit-status.ts):
 *   agent build exited with code 3          → 3
 *   agent build was killed by SIGTERM       → 143 (128 + n)
 *   agent build was lost / failed / …       → 255 (its status is unknown)
 * A follower never ends silently. While the connection is down it says so on stderr and reconnects (the output
 * resumes where it stopped) for up to RECONNECT_WINDOW_MS; it gives up at once, with the reason and status 255, when
 * the daemon says it is shutting down (close 4110) or when it talked to the local daemon directly (that daemon's
 * offer dies with it, so reconnecting cannot succeed).
 */
import { resolveAgentRef } from "../client/agent-ref.js";
import type { DaemonClient } from "../client/daemon-client.js";
import { DaemonOfflineError } from "../client/errors.js";
import { CloseCode } from "../protocol/close-codes.js";
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo } from "../protocol/rpc.js";
import { LocalDaemonStoppedError } from "./cli-errors.js";
import { openClientTarget, type ClientFlags } from "./client-factory.js";
import { EXIT_PASEO_FAILED, signalExitStatus } from "./exit-status.js";
import { info } from "./output.js";

/** How long a follower keeps reconnecting after it lost the daemon before it gives up (status 255). */
export const RECONNECT_WINDOW_MS = 30_000;

export interface LogsFlags extends ClientFlags {
  follow?: boolean;
  since?: number;
}

export async function runLogs(ref: string, flags: LogsFlags): Promise<void> {
  const follow = flags.follow === true;
  const { client, localHome } = await openClientTarget(flags, { reconnect: follow });
  const watch = follow ? watchConnection(client, localHome) : undefined;
  try {
    const agent = await resolveAgentRef(client, ref);
    for await (const chunk of client.logs(agent.id, { follow, since: flags.since })) {
      const out = chunk.stream === "stderr" ? process.stderr : process.stdout;
      if (!out.write(chunk.data)) await new Promise((r) => out.once("drain", r));
    }
    if (!follow) return;
    const ended = await client.getAgent(agent.id);
    const { message, status } = describeEnd(ended);
    info(message);
    process.exitCode = status;
  } catch (err) {
    throw watch?.reason() ?? err;
  } finally {
    watch?.dispose();
    client.close();
  }
}

/** How an agent ended, as one stderr line and an exit status. Exported for unit tests. */
export function describeEnd(a: AgentInfo): { message: string; status: number } {
  const who = `agent ${escapeControls(a.name || a.id)}`;
  const reason = a.reason ? escapeControls(a.reason) : undefined;
  switch (a.state) {
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
    case "failed":
      return { message: `${who} failed${reason ? `: ${reason}` : ""}`, status: EXIT_PASEO_FAILED };
    case "running":
      return { message: `the log stream of ${who} ended while it is still running`, status: EXIT_PASEO_FAILED };
    default:
      return { message: `${who} ended in state "${escapeControls(String(a.state))}"`, status: EXIT_PASEO_FAILED };
  }
}

interface ConnectionWatch {
  /** Why the follower gave up, when it did; thrown instead of whatever the stream reports after client.close(). */
  reason(): PaseoError | undefined;
  dispose(): void;
}

function watchConnection(client: DaemonClient, localHome: string | undefined): ConnectionWatch {
  let reason: PaseoError | undefined;
  let lastError: PaseoError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let down = false;
  const giveUp = (err: PaseoError) => {
    if (reason) return;
    reason = err;
    if (timer) clearTimeout(timer);
    client.close();
  };
  const offError = client.on("error", (err) => {
    lastError = err;
    const shuttingDown = err instanceof DaemonOfflineError && err.closeCode === CloseCode.DAEMON_SHUTDOWN;
    if (localHome !== undefined) giveUp(new LocalDaemonStoppedError(localHome, shuttingDown ? "it is shutting down" : `the connection was lost (${err.code})`));
    else if (shuttingDown) giveUp(err);
  });
  const offState = client.on("state", (state) => {
    if (reason) return;
    if (state === "reconnecting" && !down) {
      down = true;
      info(`paseo: lost the connection to the daemon (${escapeControls(lastError?.message ?? "closed")}); reconnecting for up to ${RECONNECT_WINDOW_MS / 1000} s`);
      timer = setTimeout(() => {
        const last = lastError ?? new PaseoError("CONNECTION_LOST", "the connection was lost");
        giveUp(new PaseoError(last.code, `gave up reconnecting after ${RECONNECT_WINDOW_MS / 1000} s: ${last.message}`));
      }, RECONNECT_WINDOW_MS);
    } else if (state === "connected" && down) {
      down = false;
      if (timer) clearTimeout(timer);
      info("paseo: reconnected; the output resumes where it stopped");
    }
  });
  return {
    reason: () => reason,
    dispose() {
      if (timer) clearTimeout(timer);
      offError();
      offState();
    },
  };
}
