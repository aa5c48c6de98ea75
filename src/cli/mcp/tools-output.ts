/**
 * agent_output: a bounded page of an agent's output (./agent-output.ts), with the position to continue from.
 */
import { z } from "zod";
import { ToolParamsError } from "./errors.js";
import { OUTPUT_PAGE_MAX_BYTES, readForward, readTail } from "./agent-output.js";
import { decode, plainText } from "./text.js";
import { agentLabel, agentRef, host, tool, type ToolDef } from "./tool-kit.js";

const DEFAULT_PAGE_BYTES = 32 * 1024;
/** The longest agent_output waits for new output (assistants' tool calls time out after a minute or a few). */
const MAX_WAIT_MS = 60_000;

export const OUTPUT_TOOLS: ToolDef[] = [
  tool({
    name: "agent_output",
    description: `Read an agent's output (stdout and stderr, in order), at most ${OUTPUT_PAGE_MAX_BYTES / 1024} KiB per call. Either lines: N for the last N lines, or since (and offset) to read forward from a position — from the start by default. The reply ends with the position to continue from (next.since, next.offset): pass it back to page through long output, or later to get only what is new (with waitMs to wait for it). Terminal control sequences are removed unless raw: true.`,
    write: false,
    input: z.object({
      host,
      agent: agentRef,
      lines: z.number().int().min(1).max(10_000).optional().describe("the last N lines"),
      since: z.number().int().min(1).optional().describe("chunk sequence number to start at (1 = the beginning)"),
      offset: z.number().int().min(0).optional().describe("bytes to skip in the chunk `since` (from next.offset)"),
      maxBytes: z
        .number()
        .int()
        .min(1)
        .max(OUTPUT_PAGE_MAX_BYTES)
        .optional()
        .describe(`page size in bytes (default ${DEFAULT_PAGE_BYTES})`),
      raw: z.boolean().optional().describe("keep terminal control sequences"),
      waitMs: z
        .number()
        .int()
        .min(0)
        .max(MAX_WAIT_MS)
        .optional()
        .describe("when there is no new output at since yet, wait up to this long for some (or for the agent to end)"),
    }),
    async run(args, { targets }) {
      if (args.lines !== undefined && (args.since !== undefined || args.offset !== undefined || args.waitMs))
        throw new ToolParamsError(
          'pass "lines" (the last lines) or "since"/"offset"/"waitMs" (read forward), not both',
        );
      const maxBytes = args.maxBytes ?? DEFAULT_PAGE_BYTES;
      const target = targets.get(args.host);
      const { agent, page } = await target.use(async (c) => {
        const found = await target.agent(c, args.agent);
        if (args.lines !== undefined) return { agent: found, page: await readTail(c, found, args.lines, maxBytes) };
        const page = await readForward(c, found, args.since ?? 1, args.offset ?? 0, maxBytes, args.waitMs);
        // After a wait, say how the agent is now (it may have ended meanwhile).
        return { agent: args.waitMs ? await c.getAgent(found.id) : found, page };
      });
      const decoded = decode(page.bytes);
      const output = args.raw ? decoded : plainText(decoded);
      const next = { since: page.next.seq, offset: page.next.offset };
      const state = agent.state === "running" ? "running (more output may come)" : agent.state;
      const more =
        args.lines !== undefined
          ? page.truncated
            ? `; fewer than ${args.lines} lines: the ${maxBytes}-byte page is full (read earlier output forward with since)`
            : ""
          : page.truncated
            ? `; cut at ${maxBytes} bytes: more follows, call again with since: ${next.since}, offset: ${next.offset}`
            : "; that is everything so far";
      const footer = `[paseo: agent ${agentLabel(agent)} ${state}; ${page.bytes.length} bytes from since ${page.from.seq} offset ${page.from.offset}${more}; next: since ${next.since} offset ${next.offset}]`;
      return {
        text: `${output}${output.endsWith("\n") || output === "" ? "" : "\n"}${footer}`,
        data: {
          agent: { id: agent.id, name: agent.name, state: agent.state, exitCode: agent.exitCode, signal: agent.signal },
          output,
          bytes: page.bytes.length,
          from: { since: page.from.seq, offset: page.from.offset },
          next,
          truncated: page.truncated,
        },
      };
    },
  }),
];
