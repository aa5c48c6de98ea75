/**
 * Per-method parameter validation on the daemon side. Returns a typed params object or throws ParamsError,
 * which the daemon turns into a BAD_PARAMS error reply. Limits keep one request from exhausting the daemon.
 */
import { PaseoError } from "./errors.js";
import type { MethodName, Params } from "./rpc.js";

export class ParamsError extends PaseoError {
  constructor(message: string) {
    super("BAD_PARAMS", message);
  }
}

/** Limits the daemon enforces; the agent manager imports them so the wire and the daemon agree. */
export const MAX_GRACE_MS = 600_000;
export const EXEC_MAX_TIMEOUT_MS = 600_000;
export const EXEC_MAX_OUTPUT = 16 * 1024 * 1024;
/** Terminal agents' size limits and defaults (agents.run tty/cols/rows). */
export const TTY_MIN_COLS = 2;
export const TTY_MAX_COLS = 1000;
export const TTY_MIN_ROWS = 2;
export const TTY_MAX_ROWS = 500;
export const TTY_DEFAULT_COLS = 80;
export const TTY_DEFAULT_ROWS = 24;

/** docs/protocol.md §10; string lengths are UTF-16 code units (String.length). */
export const MAX_ARGV = 256;
export const MAX_ARG_LEN = 64 * 1024;
export const MAX_ENV = 256;
/** Largest subscription id: ids travel as u32 in STREAM but as JSON integers < 2^31 in events (rpc.ts MAX_ID). */
export const MAX_SUB = 2 ** 31 - 1;

/**
 * Terminal input bounds (terminal.input), per connection: one message carries at most this many bytes, and a
 * connection sends at most TERMINAL_INPUT_RATE messages per second (bursts up to TERMINAL_INPUT_BURST). Typing is
 * tens of messages a second; a paste is split by the client into TERMINAL_INPUT_MAX_BYTES pieces.
 */
export const TERMINAL_INPUT_MAX_BYTES = 64 * 1024;
export const TERMINAL_INPUT_RATE = 200;
export const TERMINAL_INPUT_BURST = 400;

type Obj = Record<string, unknown>;

function str(p: Obj, key: string, required: boolean, max = 4096): string | undefined {
  const v = p[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || v.length === 0 || v.length > max)
    throw new ParamsError(`"${key}" must be a non-empty string (≤ ${max} chars)`);
  return v;
}
function int(p: Obj, key: string, min: number, max: number): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw new ParamsError(`"${key}" must be an integer in [${min}, ${max}]`);
  return v as number;
}
function bool(p: Obj, key: string): boolean | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new ParamsError(`"${key}" must be true or false`);
  return v;
}
function argv(p: Obj): string[] {
  const v = p.argv;
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ARGV)
    throw new ParamsError(`"argv" must be a non-empty array of ≤ ${MAX_ARGV} strings`);
  v.forEach((a, i) => {
    if (typeof a !== "string") throw new ParamsError(`"argv[${i}]" must be a string`);
    if (a.length > MAX_ARG_LEN)
      throw new ParamsError(`"argv[${i}]" is ${a.length} characters; at most ${MAX_ARG_LEN} are allowed`);
  });
  if ((v[0] as string).length === 0) throw new ParamsError(`"argv[0]" must name a program`);
  return v as string[];
}
function env(p: Obj): Record<string, string> | undefined {
  const v = p.env;
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ParamsError(`"env" must be an object of strings`);
  const entries = Object.entries(v as Obj);
  if (entries.length > MAX_ENV)
    throw new ParamsError(`"env" has ${entries.length} entries; at most ${MAX_ENV} are allowed`);
  for (const [k, val] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof val !== "string")
      throw new ParamsError(`"env.${k.slice(0, 40)}" must be a valid name with a string value`);
  }
  return v as Record<string, string>;
}
function sub(p: Obj): number {
  const v = int(p, "sub", 0, 2 ** 31);
  if (v === undefined) throw new ParamsError(`"sub" is required`);
  return v;
}
function size(p: Obj, required: boolean): { cols?: number; rows?: number } {
  const cols = int(p, "cols", TTY_MIN_COLS, TTY_MAX_COLS);
  const rows = int(p, "rows", TTY_MIN_ROWS, TTY_MAX_ROWS);
  if ((cols === undefined) !== (rows === undefined) || (required && cols === undefined))
    throw new ParamsError(`"cols" and "rows" go together`);
  return cols === undefined ? {} : { cols, rows };
}
function only(p: Obj, allowed: string[]): void {
  for (const k of Object.keys(p))
    if (!allowed.includes(k)) throw new ParamsError(`unknown parameter "${k.slice(0, 40)}"`);
}

const validators: { [M in MethodName]: (p: Obj) => Params<M> } = {
  "server.info": (p) => (only(p, []), {}),
  ping: (p) => (only(p, []), {}),
  "agents.list": (p) => (only(p, ["all"]), { all: bool(p, "all") }),
  "agents.get": (p) => (only(p, ["id"]), { id: str(p, "id", true, 64)! }),
  "agents.run": (p) => {
    only(p, ["argv", "cwd", "env", "name", "shell", "tty", "cols", "rows"]);
    const tty = bool(p, "tty");
    const cols = int(p, "cols", TTY_MIN_COLS, TTY_MAX_COLS);
    const rows = int(p, "rows", TTY_MIN_ROWS, TTY_MAX_ROWS);
    if (tty !== true && (cols !== undefined || rows !== undefined))
      throw new ParamsError(`"cols" and "rows" need "tty": true`);
    return {
      argv: argv(p),
      cwd: str(p, "cwd", false),
      env: env(p),
      name: str(p, "name", false, 128),
      shell: bool(p, "shell"),
      tty,
      cols,
      rows,
    };
  },
  "agents.logs": (p) => {
    only(p, ["id", "sub", "since", "follow"]);
    const sub = int(p, "sub", 0, MAX_SUB);
    if (sub === undefined) throw new ParamsError(`"sub" is required`);
    return {
      id: str(p, "id", true, 64)!,
      sub,
      since: int(p, "since", 1, Number.MAX_SAFE_INTEGER),
      follow: bool(p, "follow"),
    };
  },
  "agents.unsubscribe": (p) => {
    only(p, ["sub"]);
    const sub = int(p, "sub", 0, MAX_SUB);
    if (sub === undefined) throw new ParamsError(`"sub" is required`);
    return { sub };
  },
  "agents.input": (p) => {
    only(p, ["id", "dataB64"]);
    return { id: str(p, "id", true, 64)!, dataB64: str(p, "dataB64", true, 4 * 1024 * 1024)! };
  },
  "agents.stop": (p) => (
    only(p, ["id", "graceMs"]), { id: str(p, "id", true, 64)!, graceMs: int(p, "graceMs", 0, MAX_GRACE_MS) }
  ),
  "terminal.attach": (p) => {
    only(p, ["id", "sub", "mode", "take", "cols", "rows", "since"]);
    const mode = p.mode;
    if (mode !== undefined && mode !== "control" && mode !== "watch")
      throw new ParamsError(`"mode" must be "control" or "watch"`);
    const take = bool(p, "take");
    if (take && mode === "watch") throw new ParamsError(`"take" needs "mode": "control"`);
    return {
      id: str(p, "id", true, 64)!,
      sub: sub(p),
      mode: mode as "control" | "watch" | undefined,
      take,
      ...size(p, false),
      since: int(p, "since", 1, Number.MAX_SAFE_INTEGER),
    };
  },
  "terminal.input": (p) => {
    only(p, ["id", "dataB64"]);
    // The decoded length is checked by the daemon against TERMINAL_INPUT_MAX_BYTES (INPUT_TOO_LARGE names the limit).
    return { id: str(p, "id", true, 64)!, dataB64: str(p, "dataB64", true, 4 * 1024 * 1024)! };
  },
  "terminal.resize": (p) => {
    only(p, ["id", "cols", "rows"]);
    const { cols, rows } = size(p, true);
    return { id: str(p, "id", true, 64)!, cols: cols!, rows: rows! };
  },
  "terminal.take": (p) => (only(p, ["sub"]), { sub: sub(p) }),
  "terminal.release": (p) => (only(p, ["sub"]), { sub: sub(p) }),
  exec: (p) => {
    only(p, ["argv", "cwd", "env", "shell", "timeoutMs", "maxOutputBytes"]);
    return {
      argv: argv(p),
      cwd: str(p, "cwd", false),
      env: env(p),
      shell: bool(p, "shell"),
      timeoutMs: int(p, "timeoutMs", 1, EXEC_MAX_TIMEOUT_MS),
      maxOutputBytes: int(p, "maxOutputBytes", 0, EXEC_MAX_OUTPUT),
    };
  },
};

export function isMethod(name: string): name is MethodName {
  return Object.hasOwn(validators, name);
}

export function validateParams<M extends MethodName>(method: M, params: Record<string, unknown>): Params<M> {
  return validators[method](params) as Params<M>;
}

/** Every method the daemon serves (the keys of `Methods`), for docs/protocol.md §8 and its conformance test. */
export const METHOD_NAMES = Object.keys(validators) as MethodName[];
