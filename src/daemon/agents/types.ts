/**
 * Public data shapes of the agent manager. AgentInfo is structurally identical to the wire type in
 * docs/protocol.md §8, so the daemon can return it as-is.
 */
// AgentInfo is the wire type itself (docs/protocol.md §8): the daemon returns records as-is.
export type { AgentInfo, AgentState } from "../../protocol/rpc.js";
import type { Params } from "../../protocol/rpc.js";

/**
 * One recorded output chunk as the log file keeps it. fd 1 = stdout, 2 = stderr. Not the client's LogChunk (which
 * names the stream): this is the daemon's internal shape, hence its own name.
 */
export interface OutputChunk {
  seq: number;
  fd: 1 | 2;
  data: Uint8Array;
}

export interface ReadLogsResult {
  chunks: OutputChunk[];
  /** Pass this as `since` to continue reading after the returned chunks. */
  nextSeq: number;
  /** True when more chunks are already on disk past `nextSeq` (the batch was cut by maxBytes). */
  more: boolean;
}

/**
 * What `run()` takes: exactly the `agents.run` params of the wire (src/protocol/rpc.ts is the one definition).
 * `cwd` is absolute or relative to the daemon user's home ("~" expanded); `env` is merged over the daemon's own and
 * never persisted or logged; `shell` runs `argv.join(" ")` through /bin/sh -c; `tty` runs it under a PTY of
 * `cols` × `rows` (2..1000 × 2..500, default 80 × 24; TERM=xterm-256color unless env sets it).
 */
export type RunOptions = Params<"agents.run">;

/**
 * A terminal agent's screen: `data` (@xterm/addon-serialize output) reproduces the screen, cursor, modes and
 * bounded scrollback when written to a fresh cols × rows terminal; `seq` is the first log seq NOT reflected in it.
 */
export interface ScreenSnapshot {
  seq: number;
  cols: number;
  rows: number;
  data: string;
}

export interface ExecOptions extends Omit<RunOptions, "name" | "tty" | "cols" | "rows"> {
  /** Default 30 000, at most 600 000. */
  timeoutMs?: number;
  /** Per stream. Default 1 MiB, at most 16 MiB. */
  maxOutputBytes?: number;
}

/** exec's result with the output as bytes; the RPC layer turns it into the wire ExecResult (base64 fields). */
export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: Uint8Array;
  stderr: Uint8Array;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export type { Logger } from "../../shared/logger.js";

export interface SubscriptionHandle {
  /** The next seq this subscription will deliver (after an end: the agent's final nextSeq). */
  readonly nextSeq: number;
  unsubscribe(): void;
  /** Stop delivering. Nothing is buffered while paused: delivery resumes from disk at the next undelivered seq. */
  pause(): void;
  resume(): void;
}
