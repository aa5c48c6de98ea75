/**
 * `paseo mcp` under the MCP SDK's own client: StdioClientTransport spawns `node dist/cli/main.js mcp …` (the built
 * CLI, as an assistant would run it) and Client speaks MCP to it over its stdin/stdout. Every server started here is
 * closed by closeAll().
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI } from "../e2e/harness.js";

export interface ToolReply {
  isError: boolean;
  text: string;
  data: Record<string, unknown>;
}

export interface McpProc {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr. */
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<ToolReply>;
  /** Every reply text so far (to check no secret ever appears). */
  replies: string[];
  close(): Promise<void>;
}

const open = new Set<McpProc>();

export async function startMcp(args: string[], env: Record<string, string> = {}): Promise<McpProc> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) base[k] = v;
  delete base.PASEO_RELAY_OFFER;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", ...args],
    env: { ...base, ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: "paseo-test", version: "1.0.0" });
  await client.connect(transport);
  const replies: string[] = [];
  const proc: McpProc = {
    client,
    transport,
    stderr: () => stderr,
    replies,
    async call(name, a = {}) {
      const r = (await client.callTool({ name, arguments: a }, undefined, { timeout: 60_000 })) as {
        isError?: boolean;
        content: { type: string; text?: string }[];
        structuredContent?: Record<string, unknown>;
      };
      const text = r.content.map((c) => c.text ?? "").join("\n");
      replies.push(text, JSON.stringify(r.structuredContent ?? {}));
      return { isError: r.isError === true, text, data: r.structuredContent ?? {} };
    },
    async close() {
      open.delete(proc);
      await client.close().catch(() => {});
    },
  };
  open.add(proc);
  return proc;
}

export async function closeAllMcp(): Promise<void> {
  await Promise.all([...open].map((p) => p.close()));
}

/** Poll `fn` until it returns a truthy value (bounded). */
export async function until<T>(fn: () => Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
