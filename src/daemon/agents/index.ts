/** The agent manager: agents (long-running child process groups with persisted, resumable output) and exec. */
export { AgentManager, type AgentManagerEvents, type AgentManagerOptions } from "./manager.js";
export { AgentError, type AgentErrorCode } from "./errors.js";
export { EXEC_DEFAULT_MAX_OUTPUT, EXEC_DEFAULT_TIMEOUT_MS } from "./exec.js";
export type {
  AgentInfo,
  AgentState,
  ExecOptions,
  ExecOutcome,
  OutputChunk,
  Logger,
  ReadLogsResult,
  RunOptions,
  ScreenSnapshot,
  SubscriptionHandle,
} from "./types.js";
