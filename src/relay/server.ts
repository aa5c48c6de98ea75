/**
 * The relay process: one HTTP server for /health, /metrics and the static app, and WebSocket upgrades on
 * /v1/ws (§5.1) routed to daemon or client sessions. Admission (per-IP limits, URL validation) happens before a
 * session exists; every refusal is an accepted upgrade closed with a named code, so peers never have to guess.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { RelayWebSocket } from "./relay-websocket.js";
import { type RelayEndpoint, RELAY_PATH, parseRelayEndpoint } from "../protocol/relay-url.js";
import { CloseCode } from "../protocol/close-codes.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { PaseoError } from "../protocol/errors.js";
import { CLIENT_HEADER_BYTES } from "../protocol/relay-mux.js";
import { RelayHub } from "../protocol/relay/hub.js";
import { PROMETHEUS_TYPE, healthBody } from "../protocol/relay/http.js";
import { type RelayStats, renderPrometheus } from "../protocol/relay/metrics.js";
import { parseRoute, parseUrl } from "../protocol/relay/route.js";
import { HttpGuard } from "./http-guard.js";
import { clientAddress } from "./limits.js";
import { type RelayOptions, type ResolvedRelayOptions, resolveOptions } from "./options.js";
import { SECURITY_HEADERS, serveApp } from "./static.js";
import { WsRelaySocket } from "./ws-socket.js";

export interface Relay {
  /** http://host:port as bound (for /health, /metrics, the app). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** ws://host:port, or the ws(s) form of publicUrl: prefix of every relay WebSocket URL. */
  readonly wsUrlBase: string;
  /** The endpoint to put in offers: from publicUrl if set, else the bound address without TLS. */
  readonly endpoint: RelayEndpoint;
  stats(): RelayStats;
  /** Close every socket with 4009 "relay restarting", then stop listening. Idempotent. */
  close(): Promise<void>;
}

/** How long close() waits for peers to finish the close handshake before dropping their connections. */
const SHUTDOWN_GRACE_MS = 2000;

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new PaseoError("RELAY_LISTEN", `relay cannot listen on ${host}:${port}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolvePromise(server.address() as AddressInfo);
    });
  });
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const opts: ResolvedRelayOptions = resolveOptions(options, options.backend ?? (await loadDefaultBackend()));
  // Routing, sessions, limits, keepalive and metrics: the runtime-neutral core (src/protocol/relay/hub.ts).
  const hub = new RelayHub({ limits: opts, runtimeCapsFrames: true, pings: true });
  const ctx = hub.ctx;
  // Every upgraded socket, refused ones included, so shutdown can drop whatever outlives the grace period.
  const sockets = new Set<WebSocket>();
  let closing = false;
  let onSocketsDrained: (() => void) | undefined;

  // Two servers because the message limit differs per leg: a daemon DATA carries a client-sized payload plus the
  // 5-byte mux header. Compression is off: payloads are ciphertext, and inflating is a memory/CPU attack surface.
  // RelayWebSocket: oversized messages close with 4005, not ws's 1009 (relay-websocket.ts).
  const common = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    WebSocket: RelayWebSocket,
  } as const;
  const clientWss = new WebSocketServer({ ...common, maxPayload: opts.maxFrameBytes });
  const daemonWss = new WebSocketServer({ ...common, maxPayload: opts.maxFrameBytes + CLIENT_HEADER_BYTES });

  const stats = (): RelayStats => hub.stats();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Cache-Control": "no-store", ...extra });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const path = parseUrl(req.url)?.pathname;
    if (path === undefined) return send(400, "text/plain; charset=utf-8", "malformed URL\n");
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(405, "text/plain; charset=utf-8", "method not allowed\n", { Allow: "GET, HEAD" });
    if (path === "/health")
      return send(closing ? 503 : 200, "application/json; charset=utf-8", healthBody(stats(), closing));
    if (path === "/metrics") return send(200, PROMETHEUS_TYPE, renderPrometheus(stats()));
    if (path === RELAY_PATH)
      return send(426, "text/plain; charset=utf-8", "this is a WebSocket endpoint\n", { Upgrade: "websocket" });
    serveApp(opts.app, path, req, res); // only when the operator opted in (serveApp); else a text page at /
  };

  // Behind the operator's proxy every connection comes from the proxy's address: only the deadline applies then.
  const httpGuard = new HttpGuard(
    opts.trustForwardedFor ? Number.MAX_SAFE_INTEGER : opts.perIpHttpConnections,
    opts.headersTimeoutMs,
  );
  // One HTTP server per listening address (host, then alsoListen), all feeding the same router and limits.
  const servers: Server[] = [];
  const newServer = (): Server => {
    // Slow-header clients must not hold sockets open (upgrade requests included): counted per IP and on a deadline.
    const s = createServer(HttpGuard.serverOptions(opts.headersTimeoutMs), onRequest);
    httpGuard.attach(s);
    s.on("upgrade", onUpgrade);
    servers.push(s);
    return s;
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    httpGuard.upgraded(socket as Socket);
    if (closing) return void socket.destroy();
    const route = parseRoute(req.url);
    const role = route.ok ? route.role : "client";
    (role === "server" ? daemonWss : clientWss).handleUpgrade(req, socket, head, (ws) => {
      const relayWs = ws as RelayWebSocket;
      sockets.add(ws);
      const conn = hub.accept(
        new WsRelaySocket(relayWs),
        req.url,
        clientAddress(req, opts.trustForwardedFor),
        closing ? CloseCode.RELAY_RESTARTING : undefined,
      );
      // ws closed an oversized message itself (1009 rewritten to 4005): account that close as the relay's.
      relayWs.onFrameTooLarge = () => conn.peer.noteClose(CloseCode.FRAME_TOO_LARGE);
      ws.on("pong", () => conn.peer.pong());
      ws.on("message", (data, isBinary) => conn.message(data as Buffer, isBinary));
      // An 'error' (e.g. an oversized frame) precedes 'close', possibly by a whole close handshake: act at once.
      // Without an 'error' listener ws would throw.
      ws.on("error", () => conn.error());
      ws.on("close", (code, reason) => {
        conn.closed(code, reason.toString("utf8"));
        sockets.delete(ws);
        if (closing && sockets.size === 0) onSocketsDrained?.();
      });
    });
  };

  let address: AddressInfo;
  try {
    address = await listen(newServer(), opts.host, opts.port);
    // Same port on every further address (port 0 picked it above).
    for (const extra of opts.alsoListen) await listen(newServer(), extra, address.port);
  } catch (err) {
    for (const s of servers) if (s.listening) s.close();
    hub.stop();
    throw err;
  }
  const host = address.address;
  const url = `http://${urlHost(host)}:${address.port}`;
  const endpoint: RelayEndpoint = opts.publicUrl
    ? parseRelayEndpoint(opts.publicUrl)
    : { endpoint: `${urlHost(host)}:${address.port}`, tls: false };
  const wsUrlBase = `${endpoint.tls ? "wss" : "ws"}://${endpoint.endpoint}`;
  const also = opts.alsoListen.map((h) => ` and ${urlHost(h)}:${address.port}`).join("");
  ctx.log("info", `relay listening on ${url}${also}${opts.publicUrl ? ` (public ${opts.publicUrl})` : ""}`);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      hub.stop();
      const serverClosed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      const drained = new Promise<void>((r) => {
        onSocketsDrained = r;
        if (sockets.size === 0) r();
      });
      // Clients first, so their daemons see them leave with 4009 rather than a 4002 cascade.
      hub.closeAll(CloseCode.RELAY_RESTARTING);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_GRACE_MS)))]);
      clearTimeout(timer);
      for (const ws of sockets) ws.terminate();
      for (const s of servers) s.closeAllConnections();
      await serverClosed;
      ctx.log("info", "relay stopped");
    })();
    return closed;
  };

  return { url, host, port: address.port, wsUrlBase, endpoint, stats, close };
}
