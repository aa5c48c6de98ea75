/**
 * `paseo mcp`: an MCP server over stdio (the official SDK's low-level Server and StdioServerTransport) whose tools
 * drive paseo daemons through DaemonClient. Loaded only by `paseo mcp` (../commands/mcp.ts imports it on run), so
 * the SDK and zod never load for any other command.
 *
 * The low-level Server rather than McpServer, because this server decides listing and refusal itself: with
 * --read-only the write tools are neither listed nor run — a call names the reason (READ_ONLY) instead of
 * "tool not found" — and every failure is an MCP tool error carrying paseo's code and the next step (./errors.ts).
 *
 * stdout is the MCP channel and nothing else may write to it: the transport gets its own handle on it, and
 * process.stdout.write is pointed at stderr, so a stray console.log (ours or a dependency's) lands in the log
 * instead of corrupting the JSON-RPC stream. Log lines go to stderr and never carry a secret or a tool's arguments.
 */
import { Writable } from "node:stream";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { PASEO_VERSION } from "../../version.js";
import { failureText, ReadOnlyServerError, ToolParamsError, toolFailure } from "./errors.js";
import type { Targets } from "./targets.js";
import type { ToolContext, ToolDef } from "./tool-kit.js";
import { AGENT_TOOLS } from "./tools-agents.js";
import { OUTPUT_TOOLS } from "./tools-output.js";
import { TERMINAL_TOOLS } from "./tools-terminal.js";

export const ALL_TOOLS: readonly ToolDef[] = [...AGENT_TOOLS, ...OUTPUT_TOOLS, ...TERMINAL_TOOLS];

export interface McpServeOptions {
  targets: Targets;
  /** Serve the read tools only. */
  readOnly: boolean;
}

const INSTRUCTIONS =
  "paseo controls long-running commands (agents) and terminals on remote machines through an end-to-end encrypted relay. " +
  "agents_list shows what runs; agent_output pages through an agent's output (lines: N for the tail); " +
  "terminal_screen / terminal_type drive terminal agents; exec runs a one-shot command. " +
  "Errors start with a code and say what to do next.";

function log(line: string): void {
  process.stderr.write(`paseo mcp: ${line}\n`);
}

/** A tool as tools/list shows it: JSON Schema from its zod schema (unknown arguments refused). */
function describeTool(def: ToolDef): Tool {
  const { $schema: _drop, ...inputSchema } = z.toJSONSchema(def.input.strict(), { io: "input" }) as Record<
    string,
    unknown
  >;
  return {
    name: def.name,
    description: def.description,
    inputSchema: inputSchema as Tool["inputSchema"],
    annotations: { readOnlyHint: !def.write, destructiveHint: def.name === "agent_stop", openWorldHint: true },
  };
}

function failure(err: unknown): CallToolResult {
  const f = toolFailure(err);
  return { isError: true, content: [{ type: "text", text: failureText(f) }], structuredContent: { error: f } };
}

/** Check the arguments, run the tool, and turn whatever it throws into a tool error. */
export async function callTool(
  def: ToolDef,
  args: unknown,
  ctx: ToolContext,
  readOnly: boolean,
): Promise<CallToolResult> {
  if (def.write && readOnly) return failure(new ReadOnlyServerError(def.name));
  const parsed = def.input.strict().safeParse(args ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.length ? `"${i.path.join(".")}"` : "arguments"}: ${i.message}`)
      .join("; ");
    return failure(new ToolParamsError(`invalid arguments for ${def.name}: ${detail}`));
  }
  try {
    const result = await def.run(parsed.data, ctx);
    return {
      content: [{ type: "text", text: result.text }],
      ...(result.data ? { structuredContent: result.data } : {}),
    };
  } catch (err) {
    const f = toolFailure(err);
    log(`${def.name} failed: ${f.code}`);
    return failure(err);
  }
}

/** Serve over this process's stdin/stdout until stdin closes or a signal arrives. */
export async function serveMcp(options: McpServeOptions): Promise<void> {
  const channel = guardStdout();
  const tools = options.readOnly ? ALL_TOOLS.filter((t) => !t.write) : ALL_TOOLS;
  const listed = tools.map(describeTool);
  const server = new Server(
    { name: "paseo", version: PASEO_VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
  );
  const ctx: ToolContext = { targets: options.targets };
  const inFlight = new Set<Promise<CallToolResult>>();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const def = ALL_TOOLS.find((t) => t.name === request.params.name);
    if (!def) throw new McpError(ErrorCode.InvalidParams, `no tool named ${request.params.name.slice(0, 64)}`);
    const call = callTool(def, request.params.arguments, ctx, options.readOnly);
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
    return call;
  });

  let closing = false;
  const done = new Promise<void>((resolve) => {
    const stop = (why: string) => {
      if (closing) return;
      closing = true;
      log(`stopping (${why})`);
      options.targets.close();
      void server.close().finally(resolve);
    };
    // Closed stdin is the MCP way to end a stdio server; the calls it already sent still get their answers (a
    // client that does not want them sends SIGTERM). Signals stop at once.
    process.stdin.once("end", async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await new Promise((r) => setImmediate(r)); // the SDK writes a response a turn after its handler settles
      stop("the client closed stdin");
    });
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    server.onclose = () => stop("transport closed");
  });
  await server.connect(new StdioServerTransport(process.stdin, channel));
  log(
    `serving ${options.targets.names().join(", ")} over stdio (${tools.length} tools${options.readOnly ? ", read-only" : ""})`,
  );
  await done;
}

/** The MCP channel (the real stdout) for the transport; everything else that writes to stdout goes to stderr. */
function guardStdout(): Writable {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (chunk: unknown, cb: (err?: Error | null) => void) => boolean;
  const channel = new Writable({
    write(chunk, _encoding, callback) {
      write(chunk, callback);
    },
  });
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  return channel;
}
