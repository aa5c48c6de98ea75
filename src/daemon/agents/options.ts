/**
 * Validation of run/exec parameters. The RPC layer already checks JSON shapes; this layer re-checks what matters
 * for spawning safely (the manager is also used directly) and resolves the working directory.
 */
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { describeInput } from "../../protocol/redact.js";
import { AgentError } from "./errors.js";
import {
  TTY_DEFAULT_COLS,
  TTY_DEFAULT_ROWS,
  TTY_MAX_COLS,
  TTY_MAX_ROWS,
  TTY_MIN_COLS,
  TTY_MIN_ROWS,
} from "../../protocol/rpc-params.js";

const MAX_ARGS = 4096;

export function validateArgv(argv: unknown): string[] {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new AgentError("BAD_PARAMS", 'argv must be a non-empty array of strings, e.g. ["npm", "test"]');
  }
  if (argv.length > MAX_ARGS)
    throw new AgentError("BAD_PARAMS", `argv has ${argv.length} entries; at most ${MAX_ARGS} are allowed`);
  argv.forEach((a, i) => {
    if (typeof a !== "string") throw new AgentError("BAD_PARAMS", `argv[${i}] must be a string`);
    if (a.includes("\0")) throw new AgentError("BAD_PARAMS", `argv[${i}] contains a NUL byte`);
  });
  if ((argv[0] as string).length === 0) throw new AgentError("BAD_PARAMS", "argv[0] (the command) must not be empty");
  return [...(argv as string[])];
}

export function validateEnv(env: unknown): Record<string, string> | undefined {
  if (env === undefined || env === null) return undefined;
  if (typeof env !== "object" || Array.isArray(env))
    throw new AgentError("BAD_PARAMS", "env must be an object of string values");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    // Values are never echoed: they are often tokens.
    if (k.length === 0 || k.includes("=") || k.includes("\0"))
      throw new AgentError("BAD_PARAMS", `env has an invalid variable name "${describeInput(k)}"`);
    if (typeof v !== "string" || v.includes("\0"))
      throw new AgentError("BAD_PARAMS", `env.${describeInput(k)} must be a string without NUL bytes`);
    out[k] = v;
  }
  return out;
}

/** Absolute path of an existing directory. Relative paths and "~" are taken from the home directory. */
export async function resolveCwd(cwd: unknown): Promise<string> {
  if (cwd !== undefined && cwd !== null && typeof cwd !== "string")
    throw new AgentError("BAD_PARAMS", "cwd must be a string");
  const home = homedir();
  let dir = typeof cwd === "string" && cwd.length > 0 ? cwd : home;
  if (dir.includes("\0")) throw new AgentError("BAD_PARAMS", "cwd contains a NUL byte");
  if (dir === "~") dir = home;
  else if (dir.startsWith("~/")) dir = resolve(home, dir.slice(2));
  else if (!isAbsolute(dir)) dir = resolve(home, dir);
  let ok = false;
  try {
    ok = (await stat(dir)).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok)
    throw new AgentError(
      "BAD_CWD",
      `working directory "${describeInput(dir)}" does not exist or is not a directory on the daemon's machine`,
    );
  return dir;
}

export function intOption(value: unknown, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === null) return def;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new AgentError("BAD_PARAMS", `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** A terminal agent's size from run options: null for pipe agents; defaults 80×24; limits from rpc-params. */
export function validateTty(opts: {
  tty?: unknown;
  cols?: unknown;
  rows?: unknown;
}): { cols: number; rows: number } | null {
  if (opts.tty !== undefined && opts.tty !== null && typeof opts.tty !== "boolean")
    throw new AgentError("BAD_PARAMS", "tty must be true or false");
  if (opts.tty !== true) {
    if (opts.cols !== undefined || opts.rows !== undefined)
      throw new AgentError("BAD_PARAMS", "cols and rows apply to terminal agents only (tty: true)");
    return null;
  }
  return {
    cols: intOption(opts.cols, "cols", TTY_DEFAULT_COLS, TTY_MIN_COLS, TTY_MAX_COLS),
    rows: intOption(opts.rows, "rows", TTY_DEFAULT_ROWS, TTY_MIN_ROWS, TTY_MAX_ROWS),
  };
}
