/**
 * How every client command finds its daemon: `--relay <link|file|base64|JSON>`, else PASEO_RELAY_OFFER, else the
 * local daemon's offer in PASEO_HOME (written by `paseo daemon start`). One code path: all three end in DaemonClient.
 */
import { DaemonClient } from "../client/daemon-client.js";
import { DaemonOfflineError } from "../client/errors.js";
import { resolveOffer } from "../client/offer-resolve.js";
import { resolveHome } from "../daemon/home.js";
import { readLocalOffer } from "../daemon/runtime-files.js";

export interface ClientFlags {
  relay?: string;
  home?: string;
  /** Per-request timeout in seconds. */
  timeout?: number;
}

export async function openClient(flags: ClientFlags, options: { reconnect?: boolean } = {}): Promise<DaemonClient> {
  const resolved = await resolveOffer({ relay: flags.relay, env: process.env });
  const requestTimeoutMs = flags.timeout ? flags.timeout * 1000 : undefined;
  if (resolved) return new DaemonClient({ offer: resolved.offer, reconnect: options.reconnect, requestTimeoutMs, connectTimeoutMs: 10_000 });
  const home = resolveHome(flags.home);
  const local = await readLocalOffer(home);
  if (!local) {
    throw new DaemonOfflineError(`no daemon is running with home ${home} (no local offer); or pass --relay <link|file> to reach another machine`);
  }
  return new DaemonClient({ offer: local, reconnect: options.reconnect, requestTimeoutMs, connectTimeoutMs: 5_000 });
}
