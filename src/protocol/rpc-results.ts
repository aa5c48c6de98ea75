/**
 * Per-method result validation on the client side — the mirror of rpc-params.ts. A result that does not have its
 * method's shape (docs/protocol.md §8) becomes an RpcProtocolError naming the method and the field at the boundary
 * (DaemonClient.call, TerminalSession), instead of a crash later in code that trusted a cast. Fields the daemon may
 * add in later versions are allowed through; HostMetrics is only checked to be an object (its numbers are advisory).
 */
import { RpcProtocolError, type MethodName, type Result } from "./rpc.js";

type Obj = Record<string, unknown>;

/** What a check reports: the path of the offending field and what it should have been. */
class Bad {
  constructor(
    readonly path: string,
    readonly want: string,
  ) {}
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Bad(path, "an object");
  return v as Obj;
}
function str(o: Obj, key: string, path: string): void {
  if (typeof o[key] !== "string") throw new Bad(`${path}.${key}`, "a string");
}
function strOrNull(o: Obj, key: string, path: string): void {
  if (o[key] !== null && typeof o[key] !== "string") throw new Bad(`${path}.${key}`, "a string or null");
}
function int(o: Obj, key: string, path: string): void {
  if (!Number.isSafeInteger(o[key])) throw new Bad(`${path}.${key}`, "an integer");
}
function intOrNull(o: Obj, key: string, path: string): void {
  if (o[key] !== null && !Number.isSafeInteger(o[key])) throw new Bad(`${path}.${key}`, "an integer or null");
}
function num(o: Obj, key: string, path: string): void {
  if (typeof o[key] !== "number" || !Number.isFinite(o[key])) throw new Bad(`${path}.${key}`, "a number");
}
function bool(o: Obj, key: string, path: string): void {
  if (typeof o[key] !== "boolean") throw new Bad(`${path}.${key}`, "true or false");
}
function strings(o: Obj, key: string, path: string): void {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new Bad(`${path}.${key}`, "an array of strings");
}
function oneOf(o: Obj, key: string, path: string, values: readonly string[]): void {
  if (!values.includes(o[key] as string)) throw new Bad(`${path}.${key}`, `one of ${values.join(", ")}`);
}

const AGENT_STATES = ["running", "exited", "killed", "failed", "lost"] as const;
const LANES = ["writer", "watcher"] as const;

function serverInfo(v: unknown, path = "result"): void {
  const o = obj(v, path);
  for (const k of ["serverId", "fingerprint", "hostname", "platform", "arch", "paseoVersion", "time"]) str(o, k, path);
  int(o, "protocolVersion", path);
  strings(o, "capabilities", path);
  obj(o.metrics, `${path}.metrics`);
  // Absent from daemons older than the kill switch (then input is enabled); when present it must be a boolean.
  if (o.inputEnabled !== undefined && typeof o.inputEnabled !== "boolean")
    throw new Bad(`${path}.inputEnabled`, "a boolean");
}

function agentInfo(v: unknown, path = "result"): void {
  const o = obj(v, path);
  for (const k of ["id", "name", "cwd", "startedAt"]) str(o, k, path);
  strings(o, "argv", path);
  intOrNull(o, "pid", path);
  oneOf(o, "state", path, AGENT_STATES);
  intOrNull(o, "exitCode", path);
  strOrNull(o, "signal", path);
  if (o.reason !== undefined && o.reason !== null) str(o, "reason", path);
  strOrNull(o, "endedAt", path);
  int(o, "nextSeq", path);
  int(o, "bytes", path);
  bool(o, "tty", path);
  intOrNull(o, "cols", path);
  intOrNull(o, "rows", path);
}

function empty(v: unknown): void {
  obj(v, "result");
}

function lane(v: unknown): void {
  const o = obj(v, "result");
  oneOf(o, "lane", "result", LANES);
  bool(o, "writer", "result");
}

function bytes(v: unknown): void {
  int(obj(v, "result"), "bytes", "result");
}

const validators: { [M in MethodName]: (v: unknown) => void } = {
  "server.info": (v) => serverInfo(v),
  ping: empty,
  "agents.list": (v) => {
    if (!Array.isArray(v)) throw new Bad("result", "an array of agents");
    v.forEach((a, i) => {
      agentInfo(a, `result[${i}]`);
    });
  },
  "agents.get": (v) => agentInfo(v),
  "agents.run": (v) => agentInfo(v),
  "agents.logs": (v) => int(obj(v, "result"), "nextSeq", "result"),
  "agents.unsubscribe": empty,
  "agents.input": bytes,
  "agents.stop": (v) => agentInfo(v),
  "terminal.attach": (v) => {
    const o = obj(v, "result");
    oneOf(o, "lane", "result", LANES);
    bool(o, "writer", "result");
    agentInfo(o.agent, "result.agent");
    if (o.screen !== null) {
      const s = obj(o.screen, "result.screen");
      int(s, "seq", "result.screen");
      int(s, "cols", "result.screen");
      int(s, "rows", "result.screen");
      str(s, "data", "result.screen");
    }
    int(o, "fromSeq", "result");
  },
  "terminal.input": bytes,
  "terminal.resize": (v) => agentInfo(v),
  "terminal.take": lane,
  "terminal.release": lane,
  exec: (v) => {
    const o = obj(v, "result");
    intOrNull(o, "exitCode", "result");
    strOrNull(o, "signal", "result");
    str(o, "stdoutB64", "result");
    str(o, "stderrB64", "result");
    bool(o, "truncated", "result");
    bool(o, "timedOut", "result");
    num(o, "durationMs", "result");
  },
};

/** Check a daemon's result for `method`; throws RpcProtocolError (code RPC_PROTOCOL) if it has the wrong shape. */
export function validateResult<M extends MethodName>(method: M, result: unknown): Result<M> {
  try {
    validators[method](result);
  } catch (err) {
    if (!(err instanceof Bad)) throw err;
    throw new RpcProtocolError(`the daemon's ${method} result is malformed: ${err.path} must be ${err.want}`);
  }
  return result as Result<M>;
}
