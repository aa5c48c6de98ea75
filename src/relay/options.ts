/**
 * The Node relay's options: the routing limits both runtimes share (src/protocol/relay/options.ts) plus what only a
 * process listening on a port has — address, public URL, forwarded-for trust, the static app and the HTTP guard.
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { realpathSync, statSync } from "node:fs";
import { describeInput } from "../protocol/redact.js";
import {
  RELAY_DEFAULTS,
  RelayConfigError,
  type RelayLimitOptions,
  type ResolvedRelayLimits,
  intOption,
  resolveLimits,
} from "../protocol/relay/options.js";
import { type AppFiles, AppDirError, loadAppFiles } from "./static.js";

import type { Logger } from "../shared/logger.js";
export type { LogLevel, Logger } from "../shared/logger.js";
export { RELAY_DEFAULTS, RelayConfigError };

export interface RelayOptions extends RelayLimitOptions {
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
  /** Take the client IP from the last X-Forwarded-For entry (only behind a proxy you run). Default false. */
  trustForwardedFor?: boolean;
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

export interface ResolvedRelayOptions extends ResolvedRelayLimits {
  host: string;
  port: number;
  alsoListen: string[];
  publicUrl: string | undefined;
  trustForwardedFor: boolean;
  /** The app's files (an allow-list read at start), when serveApp is on. */
  app: AppFiles | undefined;
  perIpHttpConnections: number;
  headersTimeoutMs: number;
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

export function resolveOptions(options: RelayOptions, backend: CryptoBackend): ResolvedRelayOptions {
  const d = RELAY_DEFAULTS;
  return {
    ...resolveLimits(options, backend),
    host: options.host ?? d.host,
    port: intOption("port", options.port, d.port, 0, 65535),
    alsoListen: [...(options.alsoListen ?? [])],
    publicUrl: checkPublicUrl(options.publicUrl),
    trustForwardedFor: options.trustForwardedFor ?? false,
    app: checkApp(options.serveApp, options.staticDir),
    perIpHttpConnections: intOption("perIpHttpConnections", options.perIpHttpConnections, d.perIpHttpConnections, 1),
    headersTimeoutMs: intOption("headersTimeoutMs", options.headersTimeoutMs, d.headersTimeoutMs, 10),
  };
}
