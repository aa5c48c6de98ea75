/**
 * `paseo exec -- cmd…`: run a one-shot command on the daemon and exit with its status, like `ssh host cmd`: its
 * stdout and stderr pass through untouched and nothing else is printed when it ran (whatever its status). Statuses
 * (./exit-status.ts): n, 128+signal, 124 timed out, 126/127 could not be started, 255 paseo failed.
 */
import { PaseoError } from "../protocol/errors.js";
import { openClient, type ClientFlags } from "./client-factory.js";
import {
  EXIT_CANNOT_EXECUTE,
  EXIT_NOT_FOUND,
  EXIT_PASEO_FAILED,
  EXIT_TIMED_OUT,
  signalExitStatus,
} from "./exit-status.js";
import { info, printJson, reportError } from "./output.js";

export interface ExecFlags extends ClientFlags {
  cwd?: string;
  shell?: boolean;
  execTimeout?: number;
  json?: boolean;
}

const DEFAULT_TIMEOUT_S = 30;

export async function runExec(argv: string[], flags: ExecFlags): Promise<void> {
  const timeoutS = flags.execTimeout ?? DEFAULT_TIMEOUT_S;
  const client = await openClient(flags);
  let r: Awaited<ReturnType<typeof client.exec>>;
  try {
    r = await client.exec(argv, { cwd: flags.cwd, shell: flags.shell, timeoutMs: timeoutS * 1000 });
  } catch (err) {
    const status = spawnFailureStatus(err);
    if (status === undefined) throw err; // paseo's own failure: main.ts reports it, status 255
    reportError(err);
    process.exitCode = status;
    return;
  } finally {
    client.close();
  }
  if (flags.json) {
    const { stdout, stderr, ...rest } = r;
    void stdout;
    void stderr;
    printJson(rest);
  } else {
    await write(process.stdout, r.stdout);
    await write(process.stderr, r.stderr);
  }
  if (r.truncated) info("paseo: output truncated (exec keeps at most 1 MiB of each stream)");
  if (r.timedOut) {
    info(`paseo: the command was killed after --exec-timeout ${timeoutS} s`);
    process.exitCode = EXIT_TIMED_OUT;
  } else if (r.signal !== null) {
    process.exitCode = signalExitStatus(r.signal);
  } else {
    process.exitCode = r.exitCode ?? EXIT_PASEO_FAILED;
  }
}

/** A command the daemon could not start gets the status a shell gives it: 127 not found, 126 not executable. */
function spawnFailureStatus(err: unknown): number | undefined {
  if (!(err instanceof PaseoError) || err.code !== "SPAWN_FAILED") return undefined;
  if (/\(ENOENT\)/.test(err.message)) return EXIT_NOT_FOUND;
  return EXIT_CANNOT_EXECUTE;
}

function write(out: NodeJS.WriteStream, data: Uint8Array): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve) => out.write(data, () => resolve()));
}
