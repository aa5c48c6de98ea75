/**
 * How a failed tool call reads to an assistant: an MCP tool error (`isError: true`, not a JSON-RPC error, so the
 * model sees it and can act) whose text starts with paseo's stable error code, then the message, then the next
 * step. Messages are redacted (a pairing link or secret never appears: ../../protocol/redact.ts) and escaped (they
 * may quote remote text).
 */
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import { redact } from "../../protocol/redact.js";

/** This server was started with --read-only: the write tools are not served. */
export class ReadOnlyServerError extends PaseoError {
  constructor(tool: string) {
    super(
      "READ_ONLY",
      `${tool} changes things on the host, and this paseo mcp was started with --read-only (or every host it serves is read-only for this device)`,
    );
  }
}

/** A tool argument the schema cannot express (e.g. "argv or command, not both"). */
export class ToolParamsError extends PaseoError {
  constructor(message: string) {
    super("BAD_PARAMS", message);
  }
}

/** What to do next, by code, where the message itself does not already say it. */
const NEXT: Record<string, string> = {
  NOT_FOUND: "call agents_list with all: true to see the agents' ids and names",
  NOT_RUNNING: "the agent has ended: agent_output still reads what it printed; agent_start runs a new one",
  NOT_A_TERMINAL: "this is a pipe agent: read it with agent_output and write to it with agent_send",
  NOT_WRITER:
    "another client holds this terminal's writer lane (a person in `paseo attach` or the browser): wait, or call terminal_type again with take: true to take it from them",
  READ_ONLY:
    "use the read tools (agents_list, agent_output, terminal_screen, host_info), or restart paseo mcp without --read-only",
  FORBIDDEN:
    "this device has read-only rights on that daemon: its owner can grant control with `paseo daemon devices set <device-id> --control`",
  BAD_PARAMS: "fix the argument named in the message and call again",
  BAD_KEY: "name keys as listed, and put literal text in text",
  TIMEOUT: "the daemon did not answer in time: call again; host_info shows whether it is reachable",
  CONNECTION_CLOSED: "call again: the next call connects afresh",
  HOST_REQUIRED: "call hosts_list to see the host names",
  UNKNOWN_HOST: "call hosts_list to see the host names",
  INPUT_RATE_LIMITED: "wait a moment and call again",
  EARLY_DATA_REJECTED: "call again",
};

export interface ToolFailure {
  code: string;
  message: string;
  next?: string;
}

/** The failure `err` describes, redacted. Anything that is not a PaseoError is INTERNAL (its text still redacted). */
export function toolFailure(err: unknown): ToolFailure {
  const code = err instanceof PaseoError ? err.code : "INTERNAL";
  const text = err instanceof Error ? err.message : String(err);
  const message = escapeControls(redact(text));
  const next = NEXT[code];
  return next ? { code, message, next } : { code, message };
}

/** The text an assistant reads: `CODE: message` and, when there is one, `Next: …` on its own line. */
export function failureText(f: ToolFailure): string {
  return f.next ? `${f.code}: ${f.message}\nNext: ${f.next}` : `${f.code}: ${f.message}`;
}
