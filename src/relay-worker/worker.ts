/**
 * The Worker relay's entry: the relay protocol of docs/protocol.md §5 on Cloudflare Workers + Durable Objects.
 * `npx wrangler deploy` (wrangler.toml) deploys it; `npm run relay:worker` runs it locally under workerd
 * (scripts/relay-worker.js). docs/relay-worker.md describes the architecture and what differs from `paseo relay`.
 *
 * This stateless front checks the request target and sends each valid /v1/ws upgrade to the Durable Object of its
 * serverId (relay-object.ts), which holds the daemon's socket and its clients. A bad target is refused here — the
 * upgrade is accepted and closed with the named code (4000/4010), as the Node relay does. /health and /metrics
 * read the relay-wide counters (metrics-object.ts).
 */
import { PROMETHEUS_TYPE, ROOT_PAGE, SECURITY_HEADERS, healthBody } from "../protocol/relay/http.js";
import { type RelayStats, renderPrometheus } from "../protocol/relay/metrics.js";
import { parseRoute, parseUrl } from "../protocol/relay/route.js";
import { RELAY_PATH } from "../protocol/relay-url.js";
import { type RelayEnv, newWebSocketPair, upgradeResponse } from "./workerd.js";

export { RelayObject } from "./relay-object.js";
export { MetricsObject } from "./metrics-object.js";

function text(status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): Response {
  return new Response(head ? null : body, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": type, "Cache-Control": "no-store", ...extra },
  });
}

/** Accept the upgrade and close it at once with `code`: the peer learns why by name, not from an HTTP status. */
function refuse(code: number, reason: string): Response {
  const [client, server] = newWebSocketPair();
  server.accept();
  server.close(code, reason);
  return upgradeResponse(client);
}

async function relayStats(env: RelayEnv): Promise<RelayStats> {
  const stub = env.METRICS.get(env.METRICS.idFromName("metrics"));
  return (await (await stub.fetch("https://metrics/stats")).json()) as RelayStats;
}

export default {
  async fetch(request: Request, env: RelayEnv): Promise<Response> {
    const url = new URL(request.url);
    if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") {
      const route = parseRoute(url.pathname + url.search);
      if (!route.ok) return refuse(route.code, route.reason);
      return env.RELAY.get(env.RELAY.idFromName(route.serverId)).fetch(request);
    }
    const head = request.method === "HEAD";
    const plain = "text/plain; charset=utf-8";
    if (request.method !== "GET" && !head)
      return text(405, plain, "method not allowed\n", head, { Allow: "GET, HEAD" });
    const path = parseUrl(url.pathname)?.pathname;
    if (path === "/health")
      return text(200, "application/json; charset=utf-8", healthBody(await relayStats(env), false), head);
    if (path === "/metrics") return text(200, PROMETHEUS_TYPE, renderPrometheus(await relayStats(env)), head);
    if (path === RELAY_PATH) return text(426, plain, "this is a WebSocket endpoint\n", head, { Upgrade: "websocket" });
    if (path === "/") return text(200, plain, ROOT_PAGE, head);
    return text(404, plain, "not found\n", head);
  },
};
