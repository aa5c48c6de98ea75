/**
 * How every client command finds its daemon, first match wins:
 *   --relay <link|file|base64|JSON>  ·  --host <name> (a saved host)  ·  $PASEO_RELAY_OFFER  ·  $PASEO_HOST  ·
 *   the local daemon's offer in PASEO_HOME (written by `paseo daemon start`).
 * An enrollment ticket (offer v4) given with --relay / PASEO_RELAY_OFFER enrolls this machine as a device and saves
 * the host (hosts/enroll.ts) — or, when that daemon is already saved, connects as the saved device. One code path:
 * everything ends in DaemonClient.
 */
import { DaemonClient } from "../client/daemon-client.js";
import { resolveOffer } from "../client/offer-resolve.js";
import { isProcessAlive, resolveHome } from "../daemon/home.js";
import { readLocalOffer, readPid } from "../daemon/runtime-files.js";
import { PaseoError } from "../protocol/errors.js";
import { NoLocalDaemonError } from "./cli-errors.js";
import { type ClientTuning, connectWithTicket, sayEnrolled } from "./hosts/enroll.js";
import { credentialOf, HOST_ENV, HostStore } from "./hosts/host-store.js";

export interface ClientFlags {
  relay?: string;
  /** A saved host's name (`paseo hosts`). */
  host?: string;
  home?: string;
  /** Per-request timeout in seconds. */
  timeout?: number;
}

export interface ClientTarget {
  client: DaemonClient;
  /** Set when talking to the local daemon directly: its home. Its offer dies with it, so a lost connection is final. */
  localHome?: string;
  /** Set when talking to a saved host (by --host, PASEO_HOST, or a ticket for a saved or just-enrolled daemon). */
  hostName?: string;
}

/** `reconnect` applies to relay targets only (see below). */
export async function openClient(flags: ClientFlags, options: { reconnect?: boolean } = {}): Promise<DaemonClient> {
  return (await openClientTarget(flags, options)).client;
}

export async function openClientTarget(
  flags: ClientFlags,
  options: { reconnect?: boolean } = {},
): Promise<ClientTarget> {
  if (flags.relay !== undefined && flags.host !== undefined)
    throw new PaseoError("USAGE", "--relay and --host name two ways to reach a daemon: give one");
  const requestTimeoutMs = flags.timeout ? flags.timeout * 1000 : undefined;
  const tuning: ClientTuning = {
    reconnect: options.reconnect,
    connectTimeoutMs: 10_000,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  };
  const env = process.env;
  const hostName = flags.host ?? (flags.relay === undefined && !env.PASEO_RELAY_OFFER ? env[HOST_ENV] : undefined);
  if (hostName) {
    const host = await HostStore.open().get(hostName);
    return { client: new DaemonClient({ device: credentialOf(host), ...tuning }), hostName: host.name };
  }
  const resolved = await resolveOffer({ relay: flags.relay, env });
  if (resolved?.offer.v === 4) {
    const result = await connectWithTicket(HostStore.open(), resolved.offer, tuning);
    if (result.completed) sayEnrolled(result);
    return { client: result.client, hostName: result.host.name };
  }
  if (resolved) return { client: new DaemonClient({ offer: resolved.offer, ...tuning }) };
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
