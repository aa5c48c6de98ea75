/**
 * Relay options, their defaults and validation. Defaults are chosen for a small public relay on one machine:
 * generous enough for real sessions, tight enough that one peer cannot take the relay's memory or CPU.
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { realpathSync, statSync } from "node:fs";
import { PaseoError } from "../protocol/errors.js";
import { describeInput } from "../protocol/redact.js";
import { type AppFiles, AppDirError, loadAppFiles } from "./static.js";

import type { Logger } from "../shared/logger.js";
export type { LogLevel, Logger } from "../shared/logger.js";

export interface RelayOptions {
  /** Interface to listen on. Default "127.0.0.1" (put a TLS proxy in front for public use). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /**
   * Further addresses to listen on, on the same port, served by the same router: the daemon's embedded relay bound
   * to one LAN address also listens on 127.0.0.1, so the daemon's own link never leaves the machine. Default none.
   */
  alsoListen?: string[];
  /** The URL clients use from outside, e.g. "https://relay.example.com". Only reported (endpoint, logs). */
  publicUrl?: string;
  /** Largest WebSocket message from a client, and largest DATA payload from a daemon. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Hard cap on a socket's outbound buffer; above it the peer is closed with 4006. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Open WebSocket connections per IP (IPv6: per /64). Default 128. */
  perIpMaxConnections?: number;
  /** New WebSocket connections per second per IP (token bucket, burst = 2 × rate). Default 20. */
  perIpRatePerSecond?: number;
  /** Take the client IP from the last X-Forwarded-For entry (only behind a proxy you run). Default false. */
  trustForwardedFor?: boolean;
  /** Clients per daemon socket; more are closed with 4006. Default 1024. */
  maxClientsPerDaemon?: number;
  /** WebSocket ping interval on both legs; two unanswered pings terminate the socket. Default 15 000. */
  pingIntervalMs?: number;
  /** Time a daemon has to answer the CHALLENGE. Default 10 000. */
  authTimeoutMs?: number;
  /** A client with no message in either direction for this long is closed with 4008; 0 disables. Default 15 min. */
  idleTimeoutMs?: number;
  /** How long a client waits for a daemon that is not (yet) registered before 4001. Default 300. */
  offlineGraceMs?: number;
  /** A client leg must send its first message (the hello) within this, else 4008. Default 5 000. */
  firstMessageTimeoutMs?: number;
  /** Silent client legs (no message yet) per IP per serverId; a newcomer beyond it evicts the oldest with 4007. Default 16. */
  perIpPendingClients?: number;
  /** HTTP connections per IP that have not (yet) upgraded; more are dropped at once. Default 32. */
  perIpHttpConnections?: number;
  /** Request headers (upgrade included) must be complete this soon after the TCP connection opens. Default 10 000. */
  headersTimeoutMs?: number;
  /**
   * Serve the browser app at `/` — only for a relay whose operator is also its users (a self-hosted relay, the
   * daemon's embedded loopback relay): whoever serves the page can read the pairing secrets it handles. Default false.
   */
  serveApp?: boolean;
  /** The built app directory (dist/web) served when serveApp is true; read once at start (allow-list). */
  staticDir?: string;
  /** Log sink. Lines carry serverId prefixes only: never payloads, keys or offers. Default: silent. */
  log?: Logger;
  /** Crypto backend for the registration challenge. Default: loadDefaultBackend(). */
  backend?: CryptoBackend;
}

export interface ResolvedRelayOptions {
  host: string;
  port: number;
  alsoListen: string[];
  publicUrl: string | undefined;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  /** Outbound buffer above which a client is PAUSEd (or a daemon's clients stop being read). */
  highWaterBytes: number;
  /** Outbound buffer below which the pause is lifted again. */
  lowWaterBytes: number;
  perIpMaxConnections: number;
  perIpRatePerSecond: number;
  trustForwardedFor: boolean;
  maxClientsPerDaemon: number;
  pingIntervalMs: number;
  authTimeoutMs: number;
  idleTimeoutMs: number;
  offlineGraceMs: number;
  /** The app's files (an allow-list read at start), when serveApp is on. */
  app: AppFiles | undefined;
  firstMessageTimeoutMs: number;
  perIpPendingClients: number;
  perIpHttpConnections: number;
  headersTimeoutMs: number;
  log: Logger;
  backend: CryptoBackend;
}

export const RELAY_DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  maxFrameBytes: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  perIpMaxConnections: 128,
  perIpRatePerSecond: 20,
  maxClientsPerDaemon: 1024,
  pingIntervalMs: 15_000,
  authTimeoutMs: 10_000,
  idleTimeoutMs: 15 * 60_000,
  offlineGraceMs: 300,
  firstMessageTimeoutMs: 5_000,
  perIpPendingClients: 16,
  perIpHttpConnections: 32,
  headersTimeoutMs: 10_000,
} as const;

/** The spec caps the daemon-mid-reconnect grace at 500 ms: a client must learn "offline" within 1 s. */
const MAX_OFFLINE_GRACE_MS = 500;

export class RelayConfigError extends PaseoError {
  constructor(message: string) {
    super("RELAY_CONFIG", message);
  }
}

/** The app's allow-list when the operator opted in; a directory without serveApp is a mistake worth naming. */
function checkApp(serveApp: boolean | undefined, dir: string | undefined): AppFiles | undefined {
  if (!serveApp) {
    if (dir !== undefined)
      throw new RelayConfigError(
        "staticDir is only served with serveApp: true (`paseo relay --serve-app`): the relay serves the app only when its operator opts in",
      );
    return undefined;
  }
  if (dir === undefined)
    throw new RelayConfigError("serveApp needs staticDir: the built app directory (dist/web, made by `npm run build`)");
  let real: string;
  try {
    real = realpathSync(dir);
    if (!statSync(real).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new RelayConfigError(`staticDir ${dir} is not a readable directory`);
  }
  try {
    return loadAppFiles(real);
  } catch (err) {
    if (err instanceof AppDirError) throw new RelayConfigError(err.message);
    throw err;
  }
}

function intOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RelayConfigError(`relay option ${name} must be an integer in [${min}, ${max}] (got ${String(value)})`);
  }
  return v;
}

function checkPublicUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayConfigError(
      `relay publicUrl must be an absolute URL like https://relay.example.com (got "${describeInput(text)}")`,
    );
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol) || (url.pathname !== "/" && url.pathname !== "")) {
    throw new RelayConfigError(
      `relay publicUrl must be http(s):// or ws(s):// with no path (got "${describeInput(text)}")`,
    );
  }
  return `${url.protocol}//${url.host}`;
}

const silent: Logger = () => {};

export function resolveOptions(options: RelayOptions, backend: CryptoBackend): ResolvedRelayOptions {
  const d = RELAY_DEFAULTS;
  const maxFrameBytes = intOption("maxFrameBytes", options.maxFrameBytes, d.maxFrameBytes, 1024, 64 * 1024 * 1024);
  const maxBufferedBytes = intOption(
    "maxBufferedBytes",
    options.maxBufferedBytes,
    d.maxBufferedBytes,
    2 * maxFrameBytes,
  );
  // PAUSE at 1/8 of the cap leaves 7/8 for what the daemon already had in flight when PAUSE reached it.
  const highWaterBytes = Math.max(64 * 1024, Math.floor(maxBufferedBytes / 8));
  return {
    host: options.host ?? d.host,
    port: intOption("port", options.port, d.port, 0, 65535),
    alsoListen: [...(options.alsoListen ?? [])],
    publicUrl: checkPublicUrl(options.publicUrl),
    maxFrameBytes,
    maxBufferedBytes,
    highWaterBytes,
    lowWaterBytes: Math.floor(highWaterBytes / 4),
    perIpMaxConnections: intOption("perIpMaxConnections", options.perIpMaxConnections, d.perIpMaxConnections, 1),
    perIpRatePerSecond: intOption("perIpRatePerSecond", options.perIpRatePerSecond, d.perIpRatePerSecond, 1),
    trustForwardedFor: options.trustForwardedFor ?? false,
    maxClientsPerDaemon: intOption("maxClientsPerDaemon", options.maxClientsPerDaemon, d.maxClientsPerDaemon, 1),
    pingIntervalMs: intOption("pingIntervalMs", options.pingIntervalMs, d.pingIntervalMs, 10),
    authTimeoutMs: intOption("authTimeoutMs", options.authTimeoutMs, d.authTimeoutMs, 10),
    idleTimeoutMs: intOption("idleTimeoutMs", options.idleTimeoutMs, d.idleTimeoutMs, 0),
    offlineGraceMs: intOption("offlineGraceMs", options.offlineGraceMs, d.offlineGraceMs, 0, MAX_OFFLINE_GRACE_MS),
    app: checkApp(options.serveApp, options.staticDir),
    firstMessageTimeoutMs: intOption(
      "firstMessageTimeoutMs",
      options.firstMessageTimeoutMs,
      d.firstMessageTimeoutMs,
      10,
    ),
    perIpPendingClients: intOption("perIpPendingClients", options.perIpPendingClients, d.perIpPendingClients, 1),
    perIpHttpConnections: intOption("perIpHttpConnections", options.perIpHttpConnections, d.perIpHttpConnections, 1),
    headersTimeoutMs: intOption("headersTimeoutMs", options.headersTimeoutMs, d.headersTimeoutMs, 10),
    log: options.log ?? silent,
    backend,
  };
}
