/**
 * terminal_screen and terminal_type: a terminal agent (tty) seen and driven like a person at its keyboard would,
 * through the attachments of docs/protocol.md §8.3. Reading attaches as a watcher (mode "watch": never disturbs a
 * person typing, and allowed for read-only devices), takes the snapshot and detaches. Typing attaches for control:
 * that gets the writer lane if it is free (or, with take, from its holder), writes, and detaches — which frees
 * the lane again. If someone else holds it and take is not set, nothing is typed and the error says so (NOT_WRITER).
 */
import { z } from "zod";
import type { DaemonClient } from "../../client/daemon-client.js";
import { keyBytes } from "../../client/terminal-keys.js";
import { TERMINAL_INPUT_MAX_BYTES } from "../../protocol/rpc-params.js";
import { PaseoError } from "../../protocol/errors.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import { ToolParamsError } from "./errors.js";
import { screenText, type ScreenText } from "./screen-text.js";
import { agentLabel, agentRef, host, tool, type ToolDef } from "./tool-kit.js";

/** The most characters of screen text in one reply (a 1000-column terminal with scrollback can be far more). */
export const SCREEN_REPLY_MAX_CHARS = 64 * 1024;
const MAX_SCREEN_AFTER_MS = 10_000;

/** The terminal's screen now, read as a watcher, with the agent as the attachment found it. */
async function readScreen(
  client: DaemonClient,
  id: string,
  scrollback: number,
): Promise<{ agent: AgentInfo; screen: ScreenText }> {
  const term = await client.attach(id, { readOnly: true });
  try {
    if (!term.screen) throw new PaseoError("INTERNAL", "the daemon sent no screen for a fresh attachment");
    return { agent: term.agent, screen: await screenText(term.screen, scrollback) };
  } finally {
    await term.detach();
  }
}

function screenReply(agent: AgentInfo, s: ScreenText): { text: string; data: Record<string, unknown> } {
  let lines = [...s.scrollback, ...s.lines];
  let text = lines.join("\n");
  let cut = 0;
  while (text.length > SCREEN_REPLY_MAX_CHARS && lines.length > 1) {
    // Too big: drop from the top (the oldest lines), keep the bottom where the prompt and the latest output are.
    const drop = Math.max(1, Math.ceil(lines.length / 8));
    lines = lines.slice(drop);
    cut += drop;
    text = lines.join("\n");
  }
  if (text.length > SCREEN_REPLY_MAX_CHARS) text = text.slice(-SCREEN_REPLY_MAX_CHARS);
  const mode = s.alternate ? ", full-screen program (alternate screen)" : "";
  const state =
    agent.state === "running"
      ? "running"
      : `${agent.state}${agent.exitCode !== null ? ` (exit ${agent.exitCode})` : ""}`;
  const footer = `[paseo: agent ${agentLabel(agent)} ${state}; ${s.cols}×${s.rows}${mode}; cursor at row ${s.cursor.row + 1}, column ${s.cursor.col + 1}${cut ? `; ${cut} top lines left out` : ""}]`;
  return {
    text: `${text}\n${footer}`,
    data: {
      agent: { id: agent.id, name: agent.name, state: agent.state, exitCode: agent.exitCode },
      screen: text,
      cols: s.cols,
      rows: s.rows,
      cursor: s.cursor,
      alternate: s.alternate,
      linesLeftOut: cut,
    },
  };
}

function requireTerminal(agent: AgentInfo): void {
  if (!agent.tty) throw new PaseoError("NOT_A_TERMINAL", `agent ${agentLabel(agent)} is a pipe agent, not a terminal`);
}

export const TERMINAL_TOOLS: ToolDef[] = [
  tool({
    name: "terminal_screen",
    description:
      "The current screen of a terminal agent (started with tty: true) as plain text, as a person looking at it would see it, with the cursor position. scrollback: N adds up to N lines above the screen. Read-only: never disturbs anyone typing.",
    write: false,
    input: z.object({
      host,
      agent: agentRef,
      scrollback: z.number().int().min(0).max(1000).optional().describe("lines of scrollback to include (default 0)"),
    }),
    async run(args, { targets }) {
      const target = targets.get(args.host);
      return target.use(async (c) => {
        const agent = await target.agent(c, args.agent);
        requireTerminal(agent);
        const now = await readScreen(c, agent.id, args.scrollback ?? 0);
        return screenReply(now.agent, now.screen);
      });
    },
  }),

  tool({
    name: "terminal_type",
    description:
      'Type into a terminal agent: text is typed literally, then keys are pressed in order — named keys: Enter, Tab, Escape, Backspace, Space, Delete, Home, End, PageUp, PageDown, Up, Down, Left, Right, F1…F12, Ctrl-<letter> (Ctrl-C interrupts, Ctrl-D ends input), Alt-<key>. E.g. text "ls -l", keys ["Enter"]. If a person holds the terminal (its writer lane), nothing is typed and the error says NOT_WRITER; take: true types anyway, taking the lane from them. screenAfterMs: N waits N ms and returns the screen.',
    write: true,
    input: z.object({
      host,
      agent: agentRef,
      text: z.string().max(TERMINAL_INPUT_MAX_BYTES).optional().describe("literal text to type"),
      keys: z
        .array(z.string().min(1).max(32))
        .max(256)
        .optional()
        .describe('named keys pressed after text, e.g. ["Enter"]'),
      take: z.boolean().optional().describe("take the writer lane from whoever holds it"),
      screenAfterMs: z
        .number()
        .int()
        .min(0)
        .max(MAX_SCREEN_AFTER_MS)
        .optional()
        .describe("then wait this long and return the screen"),
    }),
    async run(args, { targets }) {
      const keys = args.keys ?? [];
      if (!args.text && keys.length === 0) throw new ToolParamsError('pass "text" to type and/or "keys" to press');
      for (const k of keys) keyBytes(k); // a misspelt key fails before anything is typed (BAD_KEY)
      const target = targets.get(args.host);
      return target.use(async (c) => {
        const agent = await target.agent(c, args.agent);
        requireTerminal(agent);
        const term = await c.attach(agent.id, { take: args.take === true });
        let typed: number;
        try {
          if (term.lane !== "writer") {
            const running = term.agent.state === "running"; // as the attachment found it, not as listed before
            throw new PaseoError(
              running ? "NOT_WRITER" : "NOT_RUNNING",
              running
                ? `another client holds the writer lane of agent ${agentLabel(agent)}: nothing was typed`
                : `agent ${agentLabel(agent)} has ended (${term.agent.state}): nothing was typed`,
            );
          }
          // Cursor keys depend on the program's mode (DECCKM), which the snapshot carries.
          const applicationCursor =
            keys.length > 0 && term.screen ? (await screenText(term.screen)).applicationCursor : false;
          const input = (args.text ?? "") + keys.map((k) => keyBytes(k, { applicationCursor })).join("");
          const bytes = new TextEncoder().encode(input);
          await term.write(bytes);
          typed = bytes.length;
        } finally {
          await term.detach(); // frees the writer lane
        }
        const what = `typed ${typed} bytes into agent ${agentLabel(agent)}`;
        if (args.screenAfterMs === undefined) return { text: what, data: { bytes: typed } };
        await new Promise((r) => setTimeout(r, args.screenAfterMs));
        const now = await readScreen(c, agent.id, 0);
        const screen = screenReply(now.agent, now.screen);
        return {
          text: `${what}; the screen ${args.screenAfterMs} ms later:\n${screen.text}`,
          data: { bytes: typed, ...screen.data },
        };
      });
    },
  }),
];
