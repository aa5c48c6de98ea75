/**
 * The one function that builds relay WebSocket URLs, for daemons (role=server) and clients (role=client).
 * The scheme comes from the offer's explicit `tls` flag — never guessed from the host name.
 */
export interface RelayEndpoint {
  /** host:port (IPv6 hosts in brackets), no scheme, no path. */
  endpoint: string;
  /** true → wss://, false → ws:// */
  tls: boolean;
}

export type RelayRole = "server" | "client";

export const RELAY_PATH = "/v1/ws";

export function buildRelayUrl(relay: RelayEndpoint, role: RelayRole, serverId: string): string {
  const scheme = relay.tls ? "wss" : "ws";
  const query = new URLSearchParams({ role, serverId });
  return `${scheme}://${relay.endpoint}${RELAY_PATH}?${query.toString()}`;
}

/** Parse "ws://host:port", "wss://host", "https://host", "host:port" into an endpoint; scheme decides tls. */
export function parseRelayEndpoint(text: string): RelayEndpoint {
  const m = /^(wss?|https?):\/\/([^/?#]+)\/?$/.exec(text.trim());
  if (m) {
    const tls = m[1] === "wss" || m[1] === "https";
    const hostPort = m[2]!;
    const hasPort = /:\d+$/.test(hostPort) && !/^\[[^\]]+\]$/.test(hostPort);
    return { endpoint: hasPort ? hostPort : `${hostPort}:${tls ? 443 : 80}`, tls };
  }
  if (/^[^/?#\s]+:\d+$/.test(text.trim())) return { endpoint: text.trim(), tls: false };
  throw new TypeError(`relay endpoint must look like ws://host:port or wss://host (got "${text.slice(0, 80)}")`);
}

/** A loopback host: 127.0.0.0/8, ::1 or localhost. A relay there is on this machine — usually a daemon's embedded one. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const host = endpoint
    .replace(/:\d+$/, "")
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
