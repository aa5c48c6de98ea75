/**
 * Entry point of an agent host process: `node dist/daemon/agents/host/main.js <agentDir>` (see spawn-host.ts).
 *
 * The spec (argv, cwd, env, …) arrives as one JSON document on stdin, never in argv: env values are often tokens
 * and argv is world-readable in /proc. The result goes back as one JSON line on stdout — `{"ok":true,"pid":N}`
 * once the socket listens and the program runs, or `{"ok":false,"code","message"}` — and after that the host never
 * writes to stdout/stderr again (the daemon that started it may be long gone). Diagnostics go to
 * `<agentDir>/host.log` (0600, capped).
 */
import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AgentHost, type HostSpec } from "./agent-host.js";
import type { Logger } from "../types.js";

const MAX_SPEC_BYTES = 4 << 20;
const MAX_HOST_LOG_BYTES = 1 << 20;

function hostLogger(dir: string): Logger {
  const path = join(dir, "host.log");
  return (level, msg) => {
    if (level === "debug") return;
    try {
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        /* new file */
      }
      if (size < MAX_HOST_LOG_BYTES)
        appendFileSync(path, `${new Date().toISOString()} ${level} ${msg}\n`, { mode: 0o600 });
    } catch {
      /* nowhere left to report to */
    }
  };
}

async function readSpec(): Promise<HostSpec> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SPEC_BYTES) throw new Error("the host spec is too large");
    parts.push(chunk);
  }
  const spec = JSON.parse(Buffer.concat(parts).toString("utf8")) as HostSpec;
  if (spec?.v !== 1 || typeof spec.dir !== "string" || typeof spec.socket !== "string" || !Array.isArray(spec.argv)) {
    throw new Error("not a version 1 host spec");
  }
  return spec;
}

function report(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
  process.stdout.end();
}

async function main(): Promise<void> {
  // Output to a daemon that went away must never kill the host.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  process.on("SIGHUP", () => undefined);
  let spec: HostSpec;
  try {
    spec = await readSpec();
  } catch (err) {
    report({ ok: false, code: "BAD_PARAMS", message: (err as Error).message });
    process.exitCode = 1;
    return;
  }
  const log = hostLogger(spec.dir);
  // What `ps` shows: which agent this host keeps (and under which home), never its command line or environment.
  process.title = `paseo-host ${spec.dir}`;
  process.on("uncaughtException", (err) => log("error", `uncaught: ${err.stack ?? err.message}`));
  process.on("unhandledRejection", (err) =>
    log("error", `unhandled rejection: ${(err as Error)?.stack ?? String(err)}`),
  );
  let started: Awaited<ReturnType<typeof AgentHost.start>>;
  try {
    started = await AgentHost.start(spec, log);
  } catch (err) {
    const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "SPAWN_FAILED";
    report({ ok: false, code, message: (err as Error).message });
    process.exitCode = 1;
    return;
  }
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => started.host.terminate());
  report({ ok: true, pid: started.host.pid });
  await started.finished;
  process.exit(0);
}

void main();
