#!/usr/bin/env node
/**
 * The Worker relay (src/relay-worker) run locally under workerd — the runtime Cloudflare deploys it on — through
 * miniflare (a devDependency that ships workerd and runs Durable Objects offline, hibernation API included).
 * Used by `npm run relay:worker`, by the relay suite (test/relay/relays.ts) and by the bench.
 *
 *   npm run relay:worker -- [--port P (default 8787)] [--host H] [--limits '{"maxFrameBytes": 65536}']
 *
 * The bundle is built in memory with esbuild from src/ each start (~100 ms), so no `npm run build` is needed; the
 * same entry is what `npx wrangler deploy` bundles (wrangler.toml). This is not Cloudflare's network: one local
 * workerd process, no edge, no TLS (docs/relay-worker.md).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WORKER_ENTRY = join(ROOT, "src/relay-worker/worker.ts");
/** workerd semantics the relay is written for (hibernation API, auto-answered close frames, …). */
export const COMPATIBILITY_DATE = "2025-04-01";

let bundled;

/** The Worker as one ES module (workerd runs browser-like modules: noble, not node:crypto). */
export async function bundleWorker() {
  if (bundled) return bundled;
  const esbuild = await import("esbuild");
  const out = await esbuild.build({
    entryPoints: [WORKER_ENTRY],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  bundled = out.outputFiles[0].text;
  return bundled;
}

function miniflareOptions(script, { host, port, limits, log, onLog }) {
  return {
    ...(onLog ? { handleRuntimeStdio: (stdout, stderr) => forwardLines([stdout, stderr], onLog) } : {}),
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { RELAY: "RelayObject", METRICS: "MetricsObject" },
    bindings: {
      PASEO_RELAY_LIMITS: JSON.stringify(limits ?? {}),
      ...(log ? { PASEO_RELAY_LOG: log } : {}),
    },
    host,
    port,
  };
}

/** Hand each line the Worker logs (console) to `onLog`. */
function forwardLines(streams, onLog) {
  for (const stream of streams) {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line) onLog(line);
    });
  }
}

/**
 * Start the Worker relay on host:port (port 0: a free one). Returns its URLs, the miniflare instance, and
 * `setLimits(limits)`, which restarts workerd with other limits on the same port (~150 ms; miniflare itself stays).
 * `log` is the Worker's log level (PASEO_RELAY_LOG); `onLog(line)` receives its log lines (else they go to stdout).
 */
export async function startWorkerRelay({ host = "127.0.0.1", port = 0, limits = {}, log, onLog } = {}) {
  const { Miniflare } = await import("miniflare");
  const script = await bundleWorker();
  const mf = new Miniflare(miniflareOptions(script, { host, port, limits, log, onLog }));
  const url = await mf.ready;
  const bound = Number(url.port);
  let closed;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    mf,
    host,
    port: bound,
    url: `http://${hostPart}:${bound}`,
    wsUrlBase: `ws://${hostPart}:${bound}`,
    endpoint: { endpoint: `${hostPart}:${bound}`, tls: false },
    async setLimits(next) {
      await mf.setOptions(miniflareOptions(script, { host, port: bound, limits: next, log, onLog }));
    },
    /** Stop workerd (every socket drops). Idempotent. */
    close() {
      closed ??= mf.dispose();
      return closed;
    },
  };
}

async function main(argv) {
  // 8787 as `wrangler dev` uses: 7431 is the daemon's embedded relay.
  const args = { host: "127.0.0.1", port: 8787, limits: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--port") args.port = Number(value());
    else if (a === "--host") args.host = value();
    else if (a === "--limits") args.limits = JSON.parse(value());
    else if (a === "--log-level") args.log = value();
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run relay:worker -- [--port P] [--host H] [--limits JSON] [--log-level debug|info|warn|error]",
      );
      return;
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error("--port must be 0–65535");
  const relay = await startWorkerRelay(args);
  console.log(`worker relay (workerd via miniflare) listening on ${relay.url}`);
  console.log(`relay URL: ${relay.wsUrlBase}  (paseo daemon start --relay ${relay.wsUrlBase})`);
  console.log(`relay endpoint for offers: ${relay.endpoint.endpoint} (tls: false)`);
  const stop = async (signal) => {
    console.log(`${signal}: stopping the worker relay`);
    await relay.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`paseo relay:worker: ${err.message}`);
    process.exit(1);
  });
}
