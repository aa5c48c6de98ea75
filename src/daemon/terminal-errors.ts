/**
 * Named errors of the terminal methods (docs/protocol.md §8 "Terminals"). The daemon sends their codes as RPC error
 * codes; each message says what to do next.
 */
import { PaseoError } from "../protocol/errors.js";

export type TerminalErrorCode = "NOT_WRITER" | "READ_ONLY" | "NOT_ATTACHED" | "INPUT_TOO_LARGE" | "INPUT_RATE_LIMITED";

export class TerminalError extends PaseoError {
  declare readonly code: TerminalErrorCode;
  constructor(code: TerminalErrorCode, message: string) {
    super(code, message);
  }
}

export function notWriter(id: string, attached: boolean): TerminalError {
  return new TerminalError(
    "NOT_WRITER",
    attached
      ? `this client is watching agent ${id}: another client holds its writer lane; take it with terminal.take (paseo attach --take)`
      : `this client is not attached to agent ${id} with control; attach first (terminal.attach, mode "control")`,
  );
}
