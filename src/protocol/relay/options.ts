/**
 * The relay's routing limits, their defaults and validation — everything both runtimes (the Node relay, the Worker
 * relay) enforce the same way. Runtime-only settings (listening address, static app, HTTP guard) live with their
 * runtime (src/relay/options.ts). Defaults are chosen for a small public relay: generous enough for real sessions,
 * tight enough that one peer cannot take the relay's memory or CPU.
 */
import type { CryptoBackend } from "../crypto/backend.js";
import { PaseoError } from "../errors.js";
import type { Logger } from "../../shared/logger.js";

export interface RelayLimitOptions {
  /** Largest WebSocket message from a client, and largest DATA payload from a daemon. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Hard cap on a socket's outbound buffer; above it the peer is closed with 4006. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Open WebSocket connections per IP (IPv6: per /64). Default 128. */
  perIpMaxConnections?: number;
  /** New WebSocket connections per second per IP (token bucket, burst = 2 × rate). Default 20. */
  perIpRatePerSecond?: number;
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
}

export interface ResolvedRelayLimits {
  maxFrameBytes: number;
  maxBufferedBytes: number;
  /** Outbound buffer above which a client is PAUSEd (or a daemon's clients stop being read). */
  highWaterBytes: number;
  /** Outbound buffer below which the pause is lifted again. */
  lowWaterBytes: number;
  perIpMaxConnections: number;
  perIpRatePerSecond: number;
  maxClientsPerDaemon: number;
  pingIntervalMs: number;
  authTimeoutMs: number;
  idleTimeoutMs: number;
  offlineGraceMs: number;
  firstMessageTimeoutMs: number;
  perIpPendingClients: number;
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

export function intOption(
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

const silent: Logger = () => {};

export function resolveLimits(
  options: RelayLimitOptions & { log?: Logger },
  backend: CryptoBackend,
): ResolvedRelayLimits {
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
    maxFrameBytes,
    maxBufferedBytes,
    highWaterBytes,
    lowWaterBytes: Math.floor(highWaterBytes / 4),
    perIpMaxConnections: intOption("perIpMaxConnections", options.perIpMaxConnections, d.perIpMaxConnections, 1),
    perIpRatePerSecond: intOption("perIpRatePerSecond", options.perIpRatePerSecond, d.perIpRatePerSecond, 1),
    maxClientsPerDaemon: intOption("maxClientsPerDaemon", options.maxClientsPerDaemon, d.maxClientsPerDaemon, 1),
    pingIntervalMs: intOption("pingIntervalMs", options.pingIntervalMs, d.pingIntervalMs, 10),
    authTimeoutMs: intOption("authTimeoutMs", options.authTimeoutMs, d.authTimeoutMs, 10),
    idleTimeoutMs: intOption("idleTimeoutMs", options.idleTimeoutMs, d.idleTimeoutMs, 0),
    offlineGraceMs: intOption("offlineGraceMs", options.offlineGraceMs, d.offlineGraceMs, 0, MAX_OFFLINE_GRACE_MS),
    firstMessageTimeoutMs: intOption(
      "firstMessageTimeoutMs",
      options.firstMessageTimeoutMs,
      d.firstMessageTimeoutMs,
      10,
    ),
    perIpPendingClients: intOption("perIpPendingClients", options.perIpPendingClients, d.perIpPendingClients, 1),
    log: options.log ?? silent,
    backend,
  };
}
