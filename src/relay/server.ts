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
import { CLIENT_HEADER_BYTES, MUX_VERSION_TAGGED } from "../protocol/relay-mux.js";
import { SERVER_ID_RE } from "../protocol/server-id.js";
import { ClientSession } from "./client-session.js";
import type { RelayContext, Session } from "./context.js";
import { DaemonSession } from "./daemon-session.js";
import { Liveness } from "./keepalive.js";
import { HttpGuard } from "./http-guard.js";
import { IpLimiter, clientAddress, limiterKey } from "./limits.js";
import { PendingClients } from "./pending-clients.js";
import { RelayMetrics, type RelayStats, type Role, renderPrometheus } from "./metrics.js";
import { type RelayOptions, type ResolvedRelayOptions, resolveOptions } from "./options.js";
import { Peer } from "./peer.js";
import { Router } from "./router.js";
import { SECURITY_HEADERS, serveApp } from "./static.js";
import { PASEO_VERSION } from "../version.js";

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
const LIMITER_SWEEP_MS = 60_000;

type Route =
  | { ok: true; role: Role; serverId: string; taggedOpen: boolean }
  | { ok: false; code: number; reason: string };

/** Parse a request target; undefined for a malformed one (which must never throw out of a request handler). */
function parseUrl(rawUrl: string | undefined): URL | undefined {
  try {
    return new URL(rawUrl ?? "/", "http://relay.invalid");
  } catch {
    return undefined;
  }
}

function parseRoute(rawUrl: string | undefined): Route {
  const url = parseUrl(rawUrl);
  if (!url) return { ok: false, code: CloseCode.BAD_REQUEST, reason: "malformed URL" };
  if (url.pathname !== RELAY_PATH) {
    return /^\/v\d+\/ws\/?$/.test(url.pathname)
      ? { ok: false, code: CloseCode.PROTOCOL_MISMATCH, reason: `this relay speaks ${RELAY_PATH}` }
      : { ok: false, code: CloseCode.BAD_REQUEST, reason: `unknown path; use ${RELAY_PATH}` };
  }
  const roles = url.searchParams.getAll("role");
  const ids = url.searchParams.getAll("serverId");
  if (roles.length !== 1 || (roles[0] !== "server" && roles[0] !== "client")) {
    return { ok: false, code: CloseCode.BAD_REQUEST, reason: "role must be server or client" };
  }
  if (ids.length !== 1 || !SERVER_ID_RE.test(ids[0]!)) {
    return { ok: false, code: CloseCode.BAD_REQUEST, reason: "serverId must be 26 base32 characters" };
  }
  // A daemon that sends mux=2 understands OPENs tagged with the client's source (§5.3); nothing else changes.
  const taggedOpen = roles[0] === "server" && url.searchParams.get("mux") === String(MUX_VERSION_TAGGED);
  return { ok: true, role: roles[0], serverId: ids[0]!, taggedOpen };
}

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
  const metrics = new RelayMetrics();
  const router = new Router();
  const ctx: RelayContext = {
    opts,
    metrics,
    router,
    pending: new PendingClients(opts.perIpPendingClients),
    log: (level, message) => {
      try {
        opts.log(level, message);
      } catch {
        // A broken log sink must not take routing down with it.
      }
    },
  };
  const sessions = new Set<Session>();
  // Every upgraded socket, refused ones included, so shutdown can drop whatever outlives the grace period.
  const sockets = new Set<WebSocket>();
  const limiter = new IpLimiter(opts.perIpMaxConnections, opts.perIpRatePerSecond);
  const liveness = new Liveness(sessions, ctx);
  const sweepTimer = setInterval(() => limiter.sweep(), LIMITER_SWEEP_MS).unref();
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

  const stats = (): RelayStats => metrics.snapshot(router.counts());

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Cache-Control": "no-store", ...extra });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const path = parseUrl(req.url)?.pathname;
    if (path === undefined) return send(400, "text/plain; charset=utf-8", "malformed URL\n");
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(405, "text/plain; charset=utf-8", "method not allowed\n", { Allow: "GET, HEAD" });
    if (path === "/health") {
      const s = stats();
      const body = {
        status: closing ? "stopping" : "ok",
        uptime: Math.floor(s.uptimeMs / 1000),
        daemons: s.daemons,
        clients: s.clients,
        version: PASEO_VERSION,
      };
      return send(closing ? 503 : 200, "application/json; charset=utf-8", `${JSON.stringify(body)}\n`);
    }
    if (path === "/metrics") return send(200, "text/plain; version=0.0.4; charset=utf-8", renderPrometheus(stats()));
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

  const startSession = (ws: WebSocket, peer: Peer, route: Extract<Route, { ok: true }>, source: string): void => {
    const session =
      route.role === "server"
        ? new DaemonSession(route.serverId, peer, ctx, route.taggedOpen)
        : new ClientSession(route.serverId, peer, ctx, source);
    sessions.add(session);
    ws.on("message", (data, isBinary) => session.onMessage(data as Buffer, isBinary));
    // An 'error' (e.g. an oversized frame) precedes 'close', possibly by a whole close handshake: act at once.
    ws.on("error", () => (session instanceof DaemonSession ? session.onClose() : session.onClose(1006, "")));
    ws.on("close", (code, reason) => {
      sessions.delete(session);
      peer.closed(code);
      if (session instanceof DaemonSession) session.onClose();
      else session.onClose(code, reason.toString("utf8"));
    });
    session.start();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    httpGuard.upgraded(socket as Socket);
    if (closing) return void socket.destroy();
    const key = limiterKey(clientAddress(req, opts.trustForwardedFor));
    const admission = limiter.admit(key);
    // Released when the TCP connection ends, however it ends (also if the upgrade itself fails).
    if (admission === "ok") socket.once("close", () => limiter.release(key));
    const route = parseRoute(req.url);
    const role: Role = route.ok ? route.role : "client";
    (role === "server" ? daemonWss : clientWss).handleUpgrade(req, socket, head, (ws) => {
      const peer = new Peer(ws, role, metrics);
      sockets.add(ws);
      ws.on("error", () => {}); // errors surface as 'close'; without a listener ws would throw
      ws.on("close", () => {
        sockets.delete(ws);
        if (closing && sockets.size === 0) onSocketsDrained?.();
      });
      if (admission !== "ok" || !route.ok || closing) {
        ws.on("close", (code) => peer.closed(code));
        if (closing) return peer.close(CloseCode.RELAY_RESTARTING);
        if (admission !== "ok") {
          ctx.log("debug", `connection refused: ${admission}`);
          return peer.close(
            CloseCode.RATE_LIMITED,
            admission === "too-fast" ? "too many connections per second" : "too many connections",
          );
        }
        if (!route.ok) return peer.close(route.code, route.reason);
      }
      startSession(ws, peer, route as Extract<Route, { ok: true }>, key);
    });
  };

  let address: AddressInfo;
  try {
    address = await listen(newServer(), opts.host, opts.port);
    // Same port on every further address (port 0 picked it above).
    for (const extra of opts.alsoListen) await listen(newServer(), extra, address.port);
  } catch (err) {
    for (const s of servers) if (s.listening) s.close();
    liveness.stop();
    clearInterval(sweepTimer);
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
      liveness.stop();
      clearInterval(sweepTimer);
      const serverClosed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      const drained = new Promise<void>((r) => {
        onSocketsDrained = r;
        if (sockets.size === 0) r();
      });
      // Clients first, so their daemons see them leave with 4009 rather than a 4002 cascade.
      const all = [...sessions];
      for (const s of all) if (s.peer.role === "client") s.closeFromRelay(CloseCode.RELAY_RESTARTING);
      for (const s of all) if (s.peer.role === "server") s.closeFromRelay(CloseCode.RELAY_RESTARTING);
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
