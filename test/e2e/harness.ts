/**
 * Process harness for end-to-end tests: real `paseo relay`, `paseo daemon start` and CLI processes on 127.0.0.1,
 * built from dist/ (npm test builds first). Every process started here is killed by `killAll()` (call it in
 * afterAll/afterEach), and every wait is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { killAgentProcesses } from "../setup/agent-procs.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/cli/main.js");

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);

const live = new Set<ChildProcess>();
const homes: string[] = [];

export function tmpHome(): string {
  const dir = mkdtempSync(join(tmpdir(), "paseo-test-"));
  homes.push(dir);
  return dir;
}

export interface Proc {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` appears in stdout+stderr (bounded). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

export function startProcess(args: string[], env: Record<string, string | undefined> = {}): Proc {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, PASEO_RELAY_OFFER: undefined, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  live.add(proc);
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  });
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((res) =>
    proc.once("exit", (code) => {
      live.delete(proc);
      for (const w of waiters) w();
      res(code);
    }),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = (out + err).match(pattern);
          if (m) {
            clearTimeout(timer);
            res(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(timer);
            rej(new Error(`process exited before ${pattern}: ${redactLinks(out)}\n${redactLinks(err)}`));
          }
        };
        const timer = setTimeout(
          () => rej(new Error(`timed out waiting for ${pattern}:\n${redactLinks(out)}\n${redactLinks(err)}`)),
          timeoutMs,
        );
        waiters.push(check);
        check();
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

export interface RelayProc extends Proc {
  port: number;
  endpoint: string;
}

/** `paseo relay` on 127.0.0.1 (port 0 = ephemeral unless given, e.g. to restart on the same port). */
export async function startRelayProcess(port = 0, extra: string[] = []): Promise<RelayProc> {
  const p = startProcess(["relay", "--host", "127.0.0.1", "--port", String(port), ...extra]);
  const m = await p.waitFor(/relay endpoint for offers: (\S+)/);
  const endpoint = m[1]!;
  return Object.assign(p, { endpoint, port: Number(endpoint.split(":").pop()) });
}

export interface DaemonProc extends Proc {
  home: string;
  link: string | undefined;
}

/** `paseo daemon start` with its own home; relay = "ws://127.0.0.1:PORT", or "none" for --no-relay. */
export async function startDaemonProcess(
  options: { home?: string; relay?: string; args?: string[] } = {},
): Promise<DaemonProc> {
  const home = options.home ?? tmpHome();
  const relayArgs = options.relay === "none" ? ["--no-relay"] : options.relay ? ["--relay", options.relay] : [];
  const p = startProcess(["daemon", "start", "--home", home, "--no-qr", ...relayArgs, ...(options.args ?? [])]);
  await p.waitFor(/is running/);
  const link = p.stdout().match(/(https?:\/\/\S+#offer=[A-Za-z0-9_-]+)/)?.[1];
  return Object.assign(p, { home, link });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run one CLI command to completion (bounded). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = performance.now();
  const p = startProcess(args, options.env);
  if (options.input !== undefined) p.proc.stdin!.end(options.input);
  else p.proc.stdin!.end();
  const timer = setTimeout(() => p.proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr(), ms: performance.now() - started };
}

/** Failure messages quote process output; the daemon prints its pairing link there. Never put it in test logs. */
function redactLinks(text: string): string {
  return text.replace(/#offer=\S+/g, "#offer=<redacted>");
}

/**
 * Stop every process this harness started and remove temp homes. SIGTERM first (SIGKILL after 5 s). Agents outlive
 * the daemon (each runs in its own host process), so then every agent program and host under the test homes is
 * killed too (test/setup/agent-procs.ts).
 */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (proc) =>
        new Promise<void>((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          const hard = setTimeout(() => proc.kill("SIGKILL"), 5000);
          proc.once("exit", () => {
            clearTimeout(hard);
            res();
          });
          proc.kill("SIGTERM");
        }),
    ),
  );
  for (const h of homes) killAgentProcesses(h);
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
