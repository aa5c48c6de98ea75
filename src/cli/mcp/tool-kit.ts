/**
 * The shape of one MCP tool of `paseo mcp`: a name, a description an assistant can act on, a zod input schema
 * (the SDK's peer dependency; also turned into the JSON Schema tools/list shows), whether it changes anything on the
 * host (`write`: not served with --read-only), and what it does. Results are text for the model plus the same facts
 * as structured content for programs.
 */
import { z } from "zod";
import { escapeControls } from "../../protocol/escape.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import type { Targets } from "./targets.js";

export interface ToolContext {
  targets: Targets;
}

export interface ToolResult {
  /** What the model reads. */
  text: string;
  /** The same as data (MCP structuredContent). */
  data?: Record<string, unknown>;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  /** Starts, stops, writes or runs something on the host. */
  write: boolean;
  input: S;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
}

/** Declare a tool with its argument types inferred from its schema. */
export function tool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

/** Every tool takes `host` (which daemon); it may be left out when the server serves one. */
export const host = z
  .string()
  .max(128)
  .optional()
  .describe("host name from hosts_list; may be omitted when this server serves one host");

export const agentRef = z.string().min(1).max(128).describe("agent id, unique id prefix, or name");

/** JSON for the model: compact but readable. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 1);
}

/** "3kq7x2ab (build)": the name is remote text, escaped (no control or bidi characters reach the model). */
export function agentLabel(a: AgentInfo): string {
  return `${a.id} (${escapeControls(a.name)})`;
}

/** The most characters of an agent's command line or cwd shown in a summary (argv may hold 16 MB). */
const SUMMARY_FIELD_CHARS = 256;

function clip(text: string): string {
  return text.length > SUMMARY_FIELD_CHARS ? `${text.slice(0, SUMMARY_FIELD_CHARS)}…` : text;
}

/** An AgentInfo with its unbounded fields (argv, cwd) cut to a readable size. */
export function agentSummary(a: AgentInfo): Record<string, unknown> {
  const { argv, cwd, ...rest } = a;
  return { ...rest, command: clip(argv.join(" ")), cwd: clip(cwd) };
}
