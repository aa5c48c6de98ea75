/**
 * `paseo relay`: run a relay in the foreground. Logs go to stderr (serverId prefixes only); SIGTERM/SIGINT close
 * every socket with 4009 "relay restarting" so daemons and clients reconnect at once instead of timing out.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError, Option } from "commander";
import { createLogger } from "../../daemon/logger.js";
import { type LogLevel, RELAY_DEFAULTS } from "../../relay/options.js";
import { PaseoError } from "../../protocol/errors.js";
import { info } from "../output.js";

const DEFAULT_PORT = 8080;
const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

/** The built browser app (dist/web/, from dist/cli/commands/), if `npm run build` produced it. */
function builtWebApp(): string | undefined {
  const dir = fileURLToPath(new URL("../../web/", import.meta.url));
  return existsSync(join(dir, "index.html")) && existsSync(join(dir, "app.js")) ? dir : undefined;
}

function missingWebApp(): never {
  throw new PaseoError(
    "APP_MISSING",
    "--serve-app: the built-in app is missing (run `npm run build`, or pass --static-dir <dir>)",
  );
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}

interface RelayCommandOptions {
  host: string;
  port: number;
  publicUrl?: string;
  /** Serve the browser app (opt-in: whoever serves the page can read the pairing secrets it handles). */
  serveApp?: boolean;
  /** The app directory served with --serve-app; default the built-in app (dist/web). */
  staticDir?: string;
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
  perIpMaxConnections?: number;
  perIpRate?: number;
  trustProxy?: boolean;
  pingInterval?: number;
  logLevel: LogLevel;
}

export function register(program: Command): void {
  program
    .command("relay")
    .description("run a relay: routes encrypted traffic between daemons and clients (sees ciphertext only)")
    .option("--host <host>", "interface to listen on", RELAY_DEFAULTS.host)
    .option("--port <n>", "TCP port (0 = any free port)", integer("--port", 0, 65535), DEFAULT_PORT)
    .option("--public-url <url>", "URL clients reach this relay at, e.g. https://relay.example.com")
    .option(
      "--serve-app",
      "also serve the browser app at / — only when you run this relay for yourself: whoever serves the page can read the pairing links opened in it",
    )
    .option("--static-dir <dir>", "the app directory served with --serve-app (default: the built-in app, dist/web)")
    .option(
      "--max-frame-bytes <n>",
      "largest WebSocket message accepted",
      integer("--max-frame-bytes", 1024, 64 * 1024 * 1024),
    )
    .option(
      "--max-buffered-bytes <n>",
      "per-socket outbound buffer cap",
      integer("--max-buffered-bytes", 1, Number.MAX_SAFE_INTEGER),
    )
    .option(
      "--per-ip-max-connections <n>",
      "open connections per IP",
      integer("--per-ip-max-connections", 1, 1_000_000),
    )
    .option("--per-ip-rate <n>", "new connections per second per IP", integer("--per-ip-rate", 1, 1_000_000))
    .option("--trust-proxy", "take client IPs from X-Forwarded-For (only behind your own proxy)")
    .option("--ping-interval <ms>", "WebSocket ping interval", integer("--ping-interval", 10, 3_600_000))
    .addOption(new Option("--log-level <level>", "log verbosity").choices(LEVELS).default("info"))
    .action(async (o: RelayCommandOptions) => {
      const log = createLogger({ level: o.logLevel });
      const { startRelay } = await import("../../relay/index.js"); // only `paseo relay` pays for the relay's modules
      const relay = await startRelay({
        host: o.host,
        port: o.port,
        publicUrl: o.publicUrl,
        // --static-dir alone is passed on so the relay refuses it by name instead of silently serving nothing.
        ...(o.serveApp
          ? { serveApp: true, staticDir: o.staticDir ?? builtWebApp() ?? missingWebApp() }
          : o.staticDir !== undefined
            ? { staticDir: o.staticDir }
            : {}),
        maxFrameBytes: o.maxFrameBytes,
        maxBufferedBytes: o.maxBufferedBytes,
        perIpMaxConnections: o.perIpMaxConnections,
        perIpRatePerSecond: o.perIpRate,
        trustForwardedFor: o.trustProxy ?? false,
        pingIntervalMs: o.pingInterval,
        log,
      });
      info(`relay endpoint for offers: ${relay.endpoint.endpoint} (tls: ${relay.endpoint.tls})`);
      info(
        o.serveApp
          ? `serving the browser app at ${relay.url}/ (--serve-app)`
          : "not serving the browser app (links open through an app URL or `paseo open`)",
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          info(`${signal}: closing all connections with 4009 (relay restarting)`);
          process.off("SIGTERM", onTerm);
          process.off("SIGINT", onInt);
          relay.close().then(resolve, resolve);
        };
        const onTerm = () => stop("SIGTERM");
        const onInt = () => stop("SIGINT");
        process.on("SIGTERM", onTerm);
        process.on("SIGINT", onInt);
      });
    });
}
