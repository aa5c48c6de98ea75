/**
 * Errors raised by the agent manager. Codes are stable (the daemon forwards them as RPC error codes); messages say
 * what was wrong and what to do next, and never echo environment values (they may hold secrets).
 */
import { PaseoError } from "../../protocol/errors.js";

export type AgentErrorCode = "NOT_FOUND" | "NOT_RUNNING" | "BAD_PARAMS" | "SPAWN_FAILED" | "BAD_CWD" | "NOT_A_TERMINAL";

export class AgentError extends PaseoError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
