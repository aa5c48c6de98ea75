/**
 * Fleet commands (issue 16): `paseo ls --hosts all|a,b` and `paseo exec --hosts all|a,b -- cmd` run on several saved
 * hosts in parallel (one DaemonClient each, as --host would make it) and print the results grouped by host, in the
 * order the hosts were named (`all`: the order of `paseo hosts`). An offline, revoked or unknown host is reported in
 * its group and does not stop the others; the exit status is 0 only if every host succeeded (for exec: every
 * command exited 0), else 1. `--json` prints one array of { host, ok, … }.
 */
import { DaemonClient } from "../client/daemon-client.js";
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import { redact } from "../protocol/redact.js";
import type { AgentInfo } from "../protocol/rpc.js";
import { agentsTable } from "./format.js";
import { credentialOf, HostStore, type SavedHost } from "./hosts/host-store.js";
import { printJson } from "./output.js";

/** How long one host may take to answer before it is reported as failed (the others are not held up by it). */
const CONNECT_TIMEOUT_MS = 5_000;

interface HostError {
  code: string;
  message: string;
}

type Outcome<T> = { host: string; ok: true; value: T } | { host: string; ok: false; error: HostError };

/** The saved hosts `spec` names: "all", or a comma-separated list of names (each must exist). */
export async function fleetHosts(spec: string): Promise<SavedHost[]> {
  const store = HostStore.open();
  if (spec.trim() === "all") {
    const all = await store.list();
    if (all.length === 0)
      throw new PaseoError("HOST_NOT_FOUND", "no saved hosts: add one with `paseo hosts add <name> <link|file>`");
    return all;
  }
  const names = [
    ...new Set(
      spec
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  ];
  if (names.length === 0) throw new PaseoError("USAGE", "--hosts takes `all` or a comma-separated list of host names");
  return Promise.all(names.map((n) => store.get(n)));
}

function errorOf(err: unknown): HostError {
  if (err instanceof PaseoError) return { code: err.code, message: redact(err.message) };
  return { code: "INTERNAL", message: redact(String((err as Error)?.message ?? err)) };
}

/** Run `fn` against every host at once; never throws for one host's failure. */
async function onEach<T>(
  hosts: SavedHost[],
  timeoutS: number | undefined,
  fn: (c: DaemonClient) => Promise<T>,
): Promise<Outcome<T>[]> {
  return Promise.all(
    hosts.map(async (host): Promise<Outcome<T>> => {
      let client: DaemonClient | undefined;
      try {
        client = new DaemonClient({
          device: credentialOf(host),
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          ...(timeoutS ? { requestTimeoutMs: timeoutS * 1000 } : {}),
        });
        return { host: host.name, ok: true, value: await fn(client) };
      } catch (err) {
        return { host: host.name, ok: false, error: errorOf(err) };
      } finally {
        client?.close();
      }
    }),
  );
}

function header(host: string, note: string): string {
  return `== ${escapeControls(host)}${note ? ` ${note}` : ""}`;
}

function failureLine(error: HostError): string {
  return `paseo: ${escapeControls(error.message)} [${error.code}]`;
}

export async function fleetLs(spec: string, flags: { all?: boolean; json?: boolean; timeout?: number }): Promise<void> {
  const results = await onEach(await fleetHosts(spec), flags.timeout, (c) => c.listAgents({ all: flags.all }));
  if (flags.json) printJson(results.map((r) => (r.ok ? { host: r.host, ok: true, agents: r.value } : r)));
  else {
    const blocks = results.map((r) =>
      r.ok
        ? `${header(r.host, `(${count(r.value)})`)}\n${agentsTable(r.value)}`
        : `${header(r.host, "(failed)")}\n${failureLine(r.error)}`,
    );
    process.stdout.write(`${blocks.join("\n\n")}\n`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

function count(agents: AgentInfo[]): string {
  return `${agents.length} agent${agents.length === 1 ? "" : "s"}`;
}

export async function fleetExec(
  spec: string,
  argv: string[],
  flags: { cwd?: string; shell?: boolean; execTimeout?: number; json?: boolean; timeout?: number },
): Promise<void> {
  const timeoutMs = (flags.execTimeout ?? 30) * 1000;
  const results = await onEach(await fleetHosts(spec), flags.timeout, (c) =>
    c.exec(argv, { cwd: flags.cwd, shell: flags.shell, timeoutMs }),
  );
  const decoder = new TextDecoder();
  if (flags.json) {
    printJson(
      results.map((r) => {
        if (!r.ok) return r;
        const { stdout, stderr, stdoutB64: _o, stderrB64: _e, ...rest } = r.value;
        void _o;
        void _e;
        return {
          host: r.host,
          ok: r.value.exitCode === 0,
          ...rest,
          stdout: decoder.decode(stdout),
          stderr: decoder.decode(stderr),
        };
      }),
    );
  } else {
    for (const r of results) {
      if (!r.ok) {
        process.stdout.write(`${header(r.host, "(failed)")}\n`);
        process.stderr.write(`${failureLine(r.error)}\n`);
        continue;
      }
      const v = r.value;
      const status = v.timedOut ? "timed out" : v.signal !== null ? `killed by ${v.signal}` : `exit ${v.exitCode}`;
      process.stdout.write(`${header(r.host, `(${status}${v.truncated ? ", output truncated" : ""})`)}\n`);
      // Remote output is passed through like `paseo exec` does: the user asked for it.
      if (v.stdout.length) process.stdout.write(v.stdout);
      if (v.stderr.length) process.stderr.write(v.stderr);
    }
  }
  if (results.some((r) => !r.ok || r.value.exitCode !== 0 || r.value.timedOut)) process.exitCode = 1;
}
