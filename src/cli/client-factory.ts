/**
 * How every client command finds its daemon: `--relay <link|file|base64|JSON>`, else PASEO_RELAY_OFFER, else the
 * local daemon's offer in PASEO_HOME (written by `paseo daemon start`). One code path: all three end in DaemonClient.
 */
import { DaemonClient } from "../client/daemon-client.js";
import { resolveOffer } from "../client/offer-resolve.js";
import { isProcessAlive, resolveHome } from "../daemon/home.js";
import { readLocalOffer, readPid } from "../daemon/runtime-files.js";
import { NoLocalDaemonError } from "./cli-errors.js";

export interface ClientFlags {
  relay?: string;
  home?: string;
  /** Per-request timeout in seconds. */
  timeout?: number;
}

export interface ClientTarget {
  client: DaemonClient;
  /** Set when talking to the local daemon directly: its home. Its offer dies with it, so a lost connection is final. */
  localHome?: string;
}

/** `reconnect` applies to relay targets only (see below). */
export async function openClient(flags: ClientFlags, options: { reconnect?: boolean } = {}): Promise<DaemonClient> {
  return (await openClientTarget(flags, options)).client;
}

export async function openClientTarget(
  flags: ClientFlags,
  options: { reconnect?: boolean } = {},
): Promise<ClientTarget> {
  const resolved = await resolveOffer({ relay: flags.relay, env: process.env });
  const requestTimeoutMs = flags.timeout ? flags.timeout * 1000 : undefined;
  if (resolved) {
    return {
      client: new DaemonClient({
        offer: resolved.offer,
        reconnect: options.reconnect,
        requestTimeoutMs,
        connectTimeoutMs: 10_000,
      }),
    };
  }
  const home = resolveHome(flags.home);
  const local = await readLocalOffer(home); // HomeError HOME_UNSAFE / FILE_UNSAFE when another user controls it
  // A daemon killed without its cleanup leaves local-offer.json behind: check its pid, or the user would be told
  // the (loopback) relay is unreachable — the wrong hop.
  const pid = local ? await readPid(home) : undefined;
  if (!local || pid === undefined || !isProcessAlive(pid)) throw new NoLocalDaemonError(home);
  // No reconnect: the local offer's secret dies with the daemon (a restart writes a new one), so retrying with it
  // cannot succeed; a caller that wants to outlive a restart opens a new client (see follow.ts).
  return { client: new DaemonClient({ offer: local, requestTimeoutMs, connectTimeoutMs: 5_000 }), localHome: home };
}
