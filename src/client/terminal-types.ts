/** Public shapes of DaemonClient.attach / TerminalSession (terminal-session.ts). Browser-safe. */
import type { PaseoError } from "../protocol/errors.js";
import type { LaneReason, TerminalLane } from "../protocol/rpc.js";
import type { Session } from "./session.js";

export interface AttachOptions {
  /** Your terminal's size. If you get the writer lane, the agent's terminal is resized to it (the writer's size wins). */
  cols?: number;
  rows?: number;
  /** Watch only: never hold the writer lane; input is refused by the daemon (NOT_WRITER). */
  readOnly?: boolean;
  /** Take the writer lane even if another client holds it (it is told and becomes a watcher). */
  take?: boolean;
  /** Resume from this log seq instead of starting from a screen snapshot. */
  since?: number;
}

export interface LaneChange {
  lane: TerminalLane;
  /** Whether anyone (you or another client) holds the writer lane. */
  writer: boolean;
  reason: LaneReason;
}

export type TerminalSessionState = "attached" | "reconnecting" | "ended" | "detached" | "failed";

/** What TerminalSession needs from DaemonClient (kept narrow so the two files do not import each other). */
export interface TerminalHost {
  sessionForStreaming(): Promise<Session>;
  nextSession(error: PaseoError): Promise<Session>;
  readonly requestTimeoutMs: number;
}
