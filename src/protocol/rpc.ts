/**
 * RPC message types (docs/protocol.md §8) and their validators. Every CONTROL message received is validated here
 * before anyone acts on it: a malformed or unknown message becomes an RpcProtocolError (or an error reply), never
 * a crash and never a partially-trusted object.
 */
import type { SessionInfo } from "./device.js";
import { PaseoError } from "./errors.js";

export interface HostMetrics {
  cpuPercent: number;
  memUsed: number;
  memTotal: number;
  diskUsed: number | null;
  diskTotal: number | null;
  load: [number, number, number];
  uptimeSec: number;
}

export interface ServerInfo {
  serverId: string;
  fingerprint: string;
  hostname: string;
  platform: string;
  arch: string;
  paseoVersion: string;
  protocolVersion: number;
  capabilities: string[];
  metrics: HostMetrics;
  time: string;
  /** The daemon's input kill switch (`paseo daemon input off|on`): false → agents.input / terminal.input are refused. */
  inputEnabled: boolean;
}

/**
 * `lost`: recorded as running, but its host process and program are gone without recording how it ended
 * (e.g. both were killed, or the machine restarted); `reason` says what was found.
 */
export type AgentState = "running" | "exited" | "killed" | "failed" | "lost";

export interface AgentInfo {
  id: string;
  name: string;
  argv: string[];
  cwd: string;
  pid: number | null;
  state: AgentState;
  exitCode: number | null;
  signal: string | null;
  reason?: string;
  startedAt: string;
  endedAt: string | null;
  nextSeq: number;
  bytes: number;
  /** True for a terminal agent (run under a PTY; its output is all fd 1). */
  tty: boolean;
  /** Current terminal size; null for pipe agents. */
  cols: number | null;
  rows: number | null;
}

/** A terminal's screen as @xterm/addon-serialize output: write `data` to a fresh cols × rows terminal. */
export interface TerminalScreen {
  /** The first log seq NOT reflected in `data`. */
  seq: number;
  cols: number;
  rows: number;
  data: string;
}

/** Which lane an attachment is in: one writer per terminal agent, any number of watchers. */
export type TerminalLane = "writer" | "watcher";

/**
 * Why a lane event was sent: "taken" (another client took your writer lane), "took" / "released" (your own
 * terminal.take / terminal.release), "writer-joined" / "writer-left" (another client became / stopped being the
 * writer; your lane is unchanged), "ended" (the agent ended: nobody can write any more). The daemon never sends
 * "attached": the SDK uses it when a re-attach after a reconnect finds the lanes changed while it was away.
 */
export type LaneReason = "attached" | "taken" | "took" | "released" | "writer-joined" | "writer-left" | "ended";

export interface TerminalAttachResult {
  lane: TerminalLane;
  /** Whether any attachment (this one or another) holds the writer lane. */
  writer: boolean;
  agent: AgentInfo;
  /** The screen to draw first; null when resuming with `since`. */
  screen: TerminalScreen | null;
  /** The seq of the first STREAM chunk that will follow for this sub (screen.seq, or `since`). */
  fromSeq: number;
}

export interface TerminalLaneResult {
  lane: TerminalLane;
  writer: boolean;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdoutB64: string;
  stderrB64: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

/** Method name → [params, result]. The single source of truth for typed client calls and daemon handlers. */
export interface Methods {
  "server.info": [Record<string, never>, ServerInfo];
  /** Keepalive: an empty round trip that proves the whole path (client → relay → daemon → back) is alive. */
  ping: [Record<string, never>, Record<string, never>];
  "agents.list": [{ all?: boolean }, AgentInfo[]];
  "agents.get": [{ id: string }, AgentInfo];
  "agents.run": [
    {
      argv: string[];
      cwd?: string;
      env?: Record<string, string>;
      name?: string;
      shell?: boolean;
      tty?: boolean;
      cols?: number;
      rows?: number;
    },
    AgentInfo,
  ];
  "agents.logs": [{ id: string; sub: number; since?: number; follow?: boolean }, { nextSeq: number }];
  "agents.unsubscribe": [{ sub: number }, Record<string, never>];
  "agents.input": [{ id: string; dataB64: string }, { bytes: number }];
  "agents.stop": [{ id: string; graceMs?: number }, AgentInfo];
  "terminal.attach": [
    {
      id: string;
      sub: number;
      mode?: "control" | "watch";
      take?: boolean;
      cols?: number;
      rows?: number;
      since?: number;
    },
    TerminalAttachResult,
  ];
  "terminal.input": [{ id: string; dataB64: string }, { bytes: number }];
  "terminal.resize": [{ id: string; cols: number; rows: number }, AgentInfo];
  "terminal.take": [{ sub: number }, TerminalLaneResult];
  "terminal.release": [{ sub: number }, TerminalLaneResult];
  exec: [
    {
      argv: string[];
      cwd?: string;
      env?: Record<string, string>;
      shell?: boolean;
      timeoutMs?: number;
      maxOutputBytes?: number;
    },
    ExecResult,
  ];
}

export type MethodName = keyof Methods;
export type Params<M extends MethodName> = Methods[M][0];
export type Result<M extends MethodName> = Methods[M][1];

/** Read-only methods: the only ones a daemon executes from (replayable) handshake early data. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set(["server.info", "ping", "agents.list", "agents.get"]);

/**
 * What a read-only device (docs/protocol.md §6.4) may call: reading and watching. Every other method is refused
 * with FORBIDDEN before it reaches the agent manager; terminal.attach is served as a watch (never a writer) and
 * refused with `take`.
 */
export const READ_ONLY_DEVICE_METHODS: ReadonlySet<string> = new Set([
  "server.info",
  "ping",
  "agents.list",
  "agents.get",
  "agents.logs",
  "agents.unsubscribe",
  "terminal.attach",
  "terminal.release",
]);

export interface RpcRequest {
  t: "req";
  id: number;
  method: string;
  params: Record<string, unknown>;
}
export interface RpcErrorBody {
  code: string;
  message: string;
}
export type RpcResponse =
  | { t: "res"; id: number; ok: true; result: unknown }
  | { t: "res"; id: number; ok: false; error: RpcErrorBody };
export type RpcEventKind = "end" | "error" | "lane" | "resize";
const EVENT_KINDS: ReadonlySet<unknown> = new Set(["end", "error", "lane", "resize"]);
export interface RpcEvent {
  t: "evt";
  sub: number;
  event: RpcEventKind;
  nextSeq?: number;
  /** On "end": how the agent ended (exitCode, signal). */
  agent?: AgentInfo;
  error?: RpcErrorBody;
  /** On "lane": this attachment's lane, whether anyone writes, and why it changed. */
  lane?: TerminalLane;
  writer?: boolean;
  reason?: LaneReason;
  /** On "resize": the terminal's new size. */
  cols?: number;
  rows?: number;
}
export interface Welcome {
  t: "welcome";
  server: ServerInfo;
  /** What the daemon decided about this session (§6); absent from daemons older than issue 16. */
  session?: SessionInfo;
}
export type ControlMessage = RpcRequest | RpcResponse | RpcEvent | Welcome;

/** A CONTROL message that is not valid JSON or not a known shape. Fatal for the channel on the client side. */
export class RpcProtocolError extends PaseoError {
  constructor(message: string) {
    super("RPC_PROTOCOL", message);
  }
}

/** Error codes carried in error responses. */
export const RpcErrorCode = {
  UNKNOWN_METHOD: "UNKNOWN_METHOD",
  BAD_PARAMS: "BAD_PARAMS",
  EARLY_DATA_REJECTED: "EARLY_DATA_REJECTED",
  INTERNAL: "INTERNAL",
  /** The daemon's input kill switch is off (`paseo daemon input on` turns it back on). */
  INPUT_DISABLED: "INPUT_DISABLED",
  /** A read-only device asked for a state-changing method (`paseo daemon devices set <id> --control`). */
  FORBIDDEN: "FORBIDDEN",
} as const;

/** Request ids and subscription ids in JSON are integers 0 ≤ n < MAX_ID (docs/protocol.md §8, §10). */
export const MAX_ID = 2 ** 31;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function isId(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < MAX_ID;
}

export function encodeControl(message: ControlMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** Parse and shape-check a CONTROL body. Deep field validation of params happens per method (validateParams). */
export function decodeControl(body: Uint8Array): ControlMessage {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new RpcProtocolError("control message is not valid UTF-8 JSON");
  }
  if (!isObject(value)) throw new RpcProtocolError("control message is not a JSON object");
  switch (value.t) {
    case "req":
      if (!isId(value.id) || typeof value.method !== "string" || value.method.length > 64) {
        throw new RpcProtocolError("malformed request: needs integer id and method name");
      }
      if (value.params !== undefined && !isObject(value.params))
        throw new RpcProtocolError("malformed request: params must be an object");
      return { t: "req", id: value.id, method: value.method, params: (value.params as Record<string, unknown>) ?? {} };
    case "res":
      if (!isId(value.id) || typeof value.ok !== "boolean") throw new RpcProtocolError("malformed response");
      if (
        !value.ok &&
        !(isObject(value.error) && typeof value.error.code === "string" && typeof value.error.message === "string")
      ) {
        throw new RpcProtocolError("malformed error response");
      }
      return value as unknown as RpcResponse;
    case "evt":
      if (!isId(value.sub) || !EVENT_KINDS.has(value.event)) throw new RpcProtocolError("malformed event");
      return value as unknown as RpcEvent;
    case "welcome":
      if (!isObject(value.server) || typeof value.server.serverId !== "string")
        throw new RpcProtocolError("malformed welcome");
      return value as unknown as Welcome;
    default:
      throw new RpcProtocolError("unknown control message kind");
  }
}
