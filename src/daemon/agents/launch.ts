/**
 * Starting an agent: validate the run options, then start its host process (host/spawn-host.ts), which creates the
 * log and runs the program, and connect to it. On any failure nothing is left behind: no record, no directory,
 * no process.
 */
import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { agentDir, logPath } from "./agent-record.js";
import { AgentError } from "./errors.js";
import { HostClient } from "./host/host-client.js";
import { hostSocketPath, type SocketPathError } from "./host/host-socket.js";
import { startHost, type HostProcess, type StartedHost } from "./host/spawn-host.js";
import { LogFile } from "./log-file.js";
import { LogMirror } from "./log-mirror.js";
import { resolveCwd, validateArgv, validateEnv, validateTty } from "./options.js";
import type { Logger, RunOptions } from "./types.js";

export interface RunSpec {
  argv: string[];
  env: Record<string, string> | undefined;
  name: string;
  shell: boolean;
  cwd: string;
  tty: { cols: number; rows: number } | null;
}

export async function validateRun(opts: RunOptions): Promise<RunSpec> {
  if (!opts || typeof opts !== "object") throw new AgentError("BAD_PARAMS", "run() needs an options object with argv");
  const argv = validateArgv(opts.argv);
  const env = validateEnv(opts.env);
  if (opts.name !== undefined && opts.name !== null && (typeof opts.name !== "string" || opts.name.length > 128)) {
    throw new AgentError("BAD_PARAMS", "name must be a string of at most 128 characters");
  }
  const shell = opts.shell === true;
  const name = opts.name || (shell ? (argv.join(" ").trim().split(/\s+/)[0] ?? "sh") : basename(argv[0]!));
  const tty = validateTty(opts);
  const cwd = await resolveCwd(opts.cwd);
  return { argv, env, name, shell, cwd, tty };
}

export interface Launched {
  started: StartedHost;
  client: HostClient;
  log: LogFile;
}

/**
 * Start the host for agent `id` (its directory exists) and connect to it. `recordHost` persists the provisional
 * record (see startHost).
 */
export async function launch(
  root: string,
  id: string,
  spec: RunSpec,
  log: Logger,
  recordHost: (host: HostProcess) => Promise<void>,
): Promise<Launched> {
  const dir = agentDir(root, id);
  let started: StartedHost | undefined;
  try {
    let socket: string;
    try {
      socket = hostSocketPath(dir, id);
    } catch (err) {
      throw new AgentError("SPAWN_FAILED", (err as SocketPathError).message);
    }
    started = await startHost(
      { v: 1, id, dir, socket, argv: spec.argv, cwd: spec.cwd, env: spec.env, shell: spec.shell, tty: spec.tty },
      recordHost,
    );
    const lf = await LogFile.follow(logPath(root, id), log);
    const mirror = new LogMirror(lf, log);
    const client = await HostClient.connect({
      id,
      dir,
      host: started.host,
      agentPid: started.agentPid,
      agentStart: started.agentStart,
      tty: spec.tty !== null,
      mirror,
      log,
    });
    return { started, client, log: lf };
  } catch (err) {
    if (started) {
      // The program runs but we cannot talk to its host: end both rather than leave an unmanaged agent.
      try {
        process.kill(started.host.pid, "SIGTERM");
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw err instanceof AgentError
      ? err
      : new AgentError("SPAWN_FAILED", `cannot start the agent: ${(err as Error).message}`, { cause: err });
  }
}
