/**
 * `paseo logs [-f] <agent>`: print an agent's output; with -f follow it until the agent ends, then say how it ended
 * and exit with its status (like `ssh host cmd`; see ./exit-status.ts):
 *   agent build exited with code 3          → 3
 *   agent build was killed by SIGTERM       → 143 (128 + n)
 *   agent build was lost / failed / …       → 255 (its status is unknown)
 *
 * A follower never ends silently. When the connection drops — the relay restarts, the network blips, the daemon
 * stops or dies — it says so on stderr and keeps trying for --reconnect-timeout seconds (default 30): agents outlive
 * a daemon restart, so the follow resumes where it stopped, nothing lost or repeated. When the time is up it says why
 * and exits 255. Through a relay, DaemonClient reconnects by itself. The local daemon gets a new local offer at every
 * start, so for it this module waits for a live daemon with a new offer and resumes on a new client.
 */
import { resolveAgentRef } from "../client/agent-ref.js";
import type { DaemonClient } from "../client/daemon-client.js";
import { DaemonOfflineError } from "../client/errors.js";
import { CloseCode } from "../protocol/close-codes.js";
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo } from "../protocol/rpc.js";
import { LocalDaemonStoppedError } from "./cli-errors.js";
import { openClientTarget, type ClientFlags, type ClientTarget } from "./client-factory.js";
import { EXIT_PASEO_FAILED, signalExitStatus } from "./exit-status.js";
import { info } from "./output.js";

/** Default --reconnect-timeout: how long a follower keeps trying after it lost the daemon before it exits 255. */
export const DEFAULT_RECONNECT_TIMEOUT_S = 30;
const LOCAL_POLL_MS = 200;

export interface LogsFlags extends ClientFlags {
  follow?: boolean;
  since?: number;
  reconnectTimeout?: number;
}

export async function runLogs(ref: string, flags: LogsFlags): Promise<void> {
  const follow = flags.follow === true;
  const windowS = flags.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT_S;
  let target = await openClientTarget(flags, { reconnect: follow });
  let watch = follow && target.localHome === undefined ? watchRelayPath(target.client, windowS) : undefined;
  let next = flags.since ?? 1;
  try {
    const agent = await resolveAgentRef(target.client, ref);
    for (;;) {
      try {
        for await (const chunk of target.client.logs(agent.id, { follow, since: next })) {
          next = chunk.seq + 1;
          const out = chunk.stream === "stderr" ? process.stderr : process.stdout;
          if (!out.write(chunk.data)) await new Promise((r) => out.once("drain", r));
        }
        break;
      } catch (err) {
        if (watch?.reason()) throw watch.reason();
        // The local daemon went away (its connection dropped, not closed by us): wait for it to start again.
        if (!follow || target.localHome === undefined || target.client.state !== "idle" || !(err instanceof PaseoError)) throw err;
        const old = target;
        old.client.close();
        target = await waitForLocalDaemon(flags, old, err, windowS);
      }
    }
    if (!follow) return;
    const ended = await target.client.getAgent(agent.id);
    const { message, status } = describeEnd(ended);
    info(message);
    process.exitCode = status;
  } catch (err) {
    throw watch?.reason() ?? err;
  } finally {
    watch?.dispose();
    target.client.close();
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
      return { message: `${who} was lost${reason ? `: ${reason}` : ""}; its exit status is unknown`, status: EXIT_PASEO_FAILED };
    case "failed":
      return { message: `${who} failed${reason ? `: ${reason}` : ""}`, status: EXIT_PASEO_FAILED };
    case "running":
      return { message: `the log stream of ${who} ended while it is still running`, status: EXIT_PASEO_FAILED };
    default:
      return { message: `${who} ended in state "${escapeControls(String(a.state))}"`, status: EXIT_PASEO_FAILED };
  }
}

function isShutdown(err: PaseoError | undefined): boolean {
  return err instanceof DaemonOfflineError && err.closeCode === CloseCode.DAEMON_SHUTDOWN;
}

/** Wait for a local daemon with a new local offer (a restart), within the window; else LocalDaemonStoppedError. */
async function waitForLocalDaemon(flags: LogsFlags, old: ClientTarget, cause: PaseoError, windowS: number): Promise<ClientTarget> {
  const home = old.localHome!;
  const what = isShutdown(cause) ? "it is shutting down" : `the connection was lost (${cause.code})`;
  if (windowS > 0) info(`paseo: the daemon with home ${home} went away: ${what}; waiting up to ${windowS} s for it to start again`);
  const deadline = Date.now() + windowS * 1000;
  for (;;) {
    try {
      const fresh = await openClientTarget(flags, { reconnect: true });
      if (fresh.client.offer.offerId !== old.client.offer.offerId) {
        await fresh.client.connect();
        info("paseo: the daemon is back; the output resumes where it stopped");
        return fresh;
      }
      fresh.client.close();
    } catch {
      // not running yet (or still starting): poll again until the deadline
    }
    if (Date.now() >= deadline) {
      throw new LocalDaemonStoppedError(home, windowS > 0 ? `${what}, and it did not start again within ${windowS} s` : what);
    }
    await new Promise((r) => setTimeout(r, LOCAL_POLL_MS));
  }
}

interface ConnectionWatch {
  /** Why the follower gave up, when it did; thrown instead of whatever the stream reports after client.close(). */
  reason(): PaseoError | undefined;
  dispose(): void;
}

/** Through a relay: announce a lost connection and its return; give up (close the client) when the window ends. */
function watchRelayPath(client: DaemonClient, windowS: number): ConnectionWatch {
  let reason: PaseoError | undefined;
  let lastError: PaseoError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let down = false;
  const giveUp = () => {
    if (reason) return;
    const last = lastError ?? new PaseoError("CONNECTION_LOST", "the connection was lost");
    reason = windowS > 0 ? new PaseoError(last.code, `gave up reconnecting after ${windowS} s: ${last.message}`) : last;
    if (timer) clearTimeout(timer);
    client.close();
  };
  const offError = client.on("error", (err) => {
    lastError = err;
  });
  const offState = client.on("state", (state) => {
    if (reason) return;
    if (state === "reconnecting" && !down) {
      down = true;
      if (windowS === 0) return giveUp();
      const what = isShutdown(lastError) ? "the daemon is shutting down" : `lost the connection to the daemon (${escapeControls(lastError?.message ?? "closed")})`;
      info(`paseo: ${what}; reconnecting for up to ${windowS} s`);
      timer = setTimeout(giveUp, windowS * 1000);
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
