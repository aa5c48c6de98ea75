/**
 * Daemon side: start an agent's host process (host/main.ts). It is spawned with this very Node binary, detached
 * (its own session and process group, so the daemon's terminal, its process group and its death do not reach it),
 * with stdin/stdout as a one-shot spec/result channel and stderr to /dev/null. The daemon keeps no handle on it
 * afterwards except the socket.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { procStartTime } from "../agent-process.js";
import { AgentError, type AgentErrorCode } from "../errors.js";
import type { HostSpec } from "./agent-host.js";

const START_TIMEOUT_MS = 15_000;
const CODES: readonly AgentErrorCode[] = ["BAD_PARAMS", "SPAWN_FAILED", "BAD_CWD", "NOT_RUNNING"];

export interface HostProcess {
  /** The host's pid and kernel start time (to recognise it, never a reused pid). */
  pid: number;
  procStart: string | null;
  socket: string;
}

export interface StartedHost {
  host: HostProcess;
  /** The agent's program. */
  agentPid: number;
  agentStart: string | null;
}

/**
 * The compiled host entry. From dist/ it sits next to this file; when the daemon runs from sources (the unit tests
 * import src/), the built copy in dist/ is used — `npm run build` first, as for every test that spawns paseo.
 */
export function hostEntry(): string {
  const here = fileURLToPath(new URL("./main.js", import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/([\\/])src([\\/]daemon[\\/]agents[\\/]host[\\/]main\.js)$/, "$1dist$2");
  if (built !== here && existsSync(built)) return built;
  throw new AgentError("SPAWN_FAILED", `the agent host program ${here} is missing; run \`npm run build\``);
}

/**
 * Start a host. `recordHost` runs after the host process exists but before it gets its spec (so before the program
 * starts): the caller persists the host's pid there, so a daemon that dies during the start still leaves a record
 * the next daemon can adopt or settle — never an unmanaged host. If the daemon dies before the spec is written, the
 * host reads an incomplete spec and exits without starting anything.
 */
export async function startHost(
  spec: HostSpec,
  recordHost: (host: HostProcess) => Promise<void>,
): Promise<StartedHost> {
  const child = spawn(process.execPath, [hostEntry(), spec.dir], {
    cwd: "/",
    detached: true,
    stdio: ["pipe", "pipe", "ignore"],
    windowsHide: true,
  });
  child.on("error", () => undefined);
  child.stdin!.on("error", () => undefined);
  if (child.pid !== undefined) {
    try {
      await recordHost({ pid: child.pid, procStart: procStartTime(child.pid), socket: spec.socket });
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
  }
  child.stdin!.end(JSON.stringify(spec));
  let out = "";
  const line = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rej(new AgentError("SPAWN_FAILED", `the agent host did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        res(out.slice(0, nl));
      }
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      rej(new AgentError("SPAWN_FAILED", `cannot start the agent host: ${err.message}`, { cause: err }));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      rej(new AgentError("SPAWN_FAILED", `the agent host exited before starting (${signal ?? `code ${code}`})`));
    });
  });
  child.stdout!.destroy();
  child.unref();
  let msg: { ok?: boolean; pid?: number; code?: string; message?: string };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    child.kill("SIGKILL");
    throw new AgentError("SPAWN_FAILED", "the agent host answered with something that is not JSON");
  }
  if (msg.ok !== true || !Number.isInteger(msg.pid)) {
    const code = CODES.includes(msg.code as AgentErrorCode) ? (msg.code as AgentErrorCode) : "SPAWN_FAILED";
    throw new AgentError(code, String(msg.message ?? "the agent host failed to start"));
  }
  return {
    host: { pid: child.pid!, procStart: procStartTime(child.pid!), socket: spec.socket },
    agentPid: msg.pid!,
    agentStart: procStartTime(msg.pid!),
  };
}
