/**
 * The host and agent tools: hosts_list, host_info, agents_list, agent_start, agent_send, agent_stop, exec. Each is
 * one DaemonClient call (docs/protocol.md §8) on the target the `host` argument names.
 */
import { z } from "zod";
import {
  EXEC_MAX_TIMEOUT_MS,
  MAX_ARG_LEN,
  MAX_ARGV,
  MAX_GRACE_MS,
  TTY_MAX_COLS,
  TTY_MAX_ROWS,
  TTY_MIN_COLS,
  TTY_MIN_ROWS,
} from "../../protocol/rpc-params.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import { ToolParamsError, toolFailure } from "./errors.js";
import { headAndTail } from "./text.js";
import { agentLabel, agentRef, agentSummary, host, json, tool, type ToolDef } from "./tool-kit.js";

/** The most characters of agents_list's reply (the oldest agents are left out past that). */
const LIST_REPLY_MAX_CHARS = 64 * 1024;

/** The most bytes of each of exec's stdout and stderr in one reply (the middle is left out past that). */
export const EXEC_REPLY_STREAM_BYTES = 24 * 1024;

const argv = z.array(z.string().max(MAX_ARG_LEN)).min(1).max(MAX_ARGV);
const command = z.string().min(1).max(MAX_ARG_LEN);
const env = z.record(z.string(), z.string()).optional().describe("extra environment variables");

/** agents.run / exec take argv, or one shell command line run with /bin/sh -c. */
function commandLine(args: { argv?: string[]; command?: string }): { argv: string[]; shell?: true } {
  if (args.argv && args.command !== undefined) throw new ToolParamsError('pass "argv" or "command", not both');
  if (args.argv) return { argv: args.argv };
  if (args.command !== undefined) return { argv: [args.command], shell: true };
  throw new ToolParamsError('pass "argv" (program and arguments) or "command" (a shell command line)');
}

function ended(a: AgentInfo): string {
  if (a.state === "running") return "running";
  if (a.signal) return `${a.state} (${a.signal})`;
  return a.exitCode !== null ? `${a.state} (exit ${a.exitCode})` : a.state;
}

export const AGENT_TOOLS: ToolDef[] = [
  tool({
    name: "hosts_list",
    description:
      "List the hosts (paseo daemons) this server can reach, each checked now: reachable or not (with the error code), host name, OS. Pass a host's name as `host` to the other tools.",
    write: false,
    input: z.object({}),
    async run(_args, { targets }) {
      // In parallel, each bounded by its connect timeout: one offline host does not hold up the others.
      const hosts = await Promise.all(
        targets.all.map(async (t) => {
          try {
            const s = await t.use((c) => c.serverInfo());
            return {
              name: t.name,
              kind: t.kind,
              ...(t.rights ? { rights: t.rights } : {}),
              reachable: true,
              hostname: s.hostname,
              platform: s.platform,
              serverId: s.serverId,
            };
          } catch (err) {
            const f = toolFailure(err);
            return {
              name: t.name,
              kind: t.kind,
              reachable: false,
              error: f.code,
              message: f.message,
              serverId: t.lastServer?.serverId ?? null,
            };
          }
        }),
      );
      return { text: json(hosts), data: { hosts } };
    },
  }),

  tool({
    name: "host_info",
    description:
      "The host's identity, OS, paseo version and current load (CPU, memory, disk, uptime). Also a cheap reachability check.",
    write: false,
    input: z.object({ host }),
    async run(args, { targets }) {
      const target = targets.get(args.host);
      const info = await target.use((c) => c.serverInfo());
      const data = { host: target.name, ...info };
      return { text: json(data), data };
    },
  }),

  tool({
    name: "agents_list",
    description:
      "List agents (long-running commands and terminal programs) on a host: running ones, or all with all: true. Each has an id, a name, state, exit code and nextSeq (its output position).",
    write: false,
    input: z.object({ host, all: z.boolean().optional().describe("include agents that have ended") }),
    async run(args, { targets }) {
      const agents = (await targets.get(args.host).use((c) => c.listAgents({ all: args.all }))).map(agentSummary);
      if (agents.length === 0) return { text: "no agents", data: { agents } };
      // Oldest first; past the reply budget the oldest are left out (a long-lived daemon keeps every ended agent).
      let shown = agents;
      while (shown.length > 1 && JSON.stringify(shown).length > LIST_REPLY_MAX_CHARS)
        shown = shown.slice(Math.ceil(shown.length / 8));
      const left = agents.length - shown.length;
      const note = left > 0 ? `\n[paseo: ${left} older agents left out; agent_output and the others take any id]` : "";
      return { text: json(shown) + note, data: { agents: shown, leftOut: left } };
    },
  }),

  tool({
    name: "agent_start",
    description:
      "Start an agent: a command that keeps running on the host (a build, a server, a coding agent). Pass argv, or command for a shell command line. tty: true runs it in a terminal (for interactive programs: then use terminal_screen / terminal_type); otherwise read it with agent_output and write to its stdin with agent_send.",
    write: true,
    input: z.object({
      host,
      argv: argv.optional().describe('program and arguments, e.g. ["npm", "test"]'),
      command: command.optional().describe("a shell command line, run with /bin/sh -c"),
      name: z.string().min(1).max(128).optional().describe("a name to find it by"),
      cwd: z.string().min(1).max(4096).optional().describe("working directory on the host (default: the daemon's)"),
      env,
      tty: z.boolean().optional().describe("run under a terminal"),
      cols: z
        .number()
        .int()
        .min(TTY_MIN_COLS)
        .max(TTY_MAX_COLS)
        .optional()
        .describe("terminal width (tty; default 80)"),
      rows: z
        .number()
        .int()
        .min(TTY_MIN_ROWS)
        .max(TTY_MAX_ROWS)
        .optional()
        .describe("terminal height (tty; default 24)"),
    }),
    async run(args, { targets }) {
      const line = commandLine(args);
      if ((args.cols !== undefined || args.rows !== undefined) && !args.tty)
        throw new ToolParamsError('"cols" and "rows" apply to terminal agents: pass tty: true');
      const size = args.tty && (args.cols || args.rows) ? { cols: args.cols ?? 80, rows: args.rows ?? 24 } : {};
      const agent = await targets
        .get(args.host)
        .use((c) =>
          c.runAgent({ ...line, name: args.name, cwd: args.cwd, env: args.env, tty: args.tty || undefined, ...size }),
        );
      const next = agent.tty
        ? "see its screen with terminal_screen, type with terminal_type"
        : "read its output with agent_output, write to its stdin with agent_send";
      return {
        text: `started agent ${agentLabel(agent)}, pid ${agent.pid}: ${next}\n${json(agentSummary(agent))}`,
        data: { agent: agentSummary(agent) },
      };
    },
  }),

  tool({
    name: "agent_send",
    description:
      "Write text to a running pipe agent's stdin (a newline is added unless newline: false). For terminal agents use terminal_type.",
    write: true,
    input: z.object({
      host,
      agent: agentRef,
      text: z.string().max(1024 * 1024),
      newline: z.boolean().optional().describe("append \\n (default true)"),
    }),
    async run(args, { targets }) {
      const target = targets.get(args.host);
      const bytes = await target.use(async (c) => {
        const agent = await target.agent(c, args.agent);
        return c.sendInput(agent.id, args.newline === false ? args.text : `${args.text}\n`);
      });
      return { text: `sent ${bytes} bytes`, data: { bytes } };
    },
  }),

  tool({
    name: "agent_stop",
    description:
      "Stop an agent: SIGTERM to its process group, SIGKILL after graceMs (default 5000). Returns how it ended.",
    write: true,
    input: z.object({ host, agent: agentRef, graceMs: z.number().int().min(0).max(MAX_GRACE_MS).optional() }),
    async run(args, { targets }) {
      const target = targets.get(args.host);
      const agent = await target.use(async (c) =>
        c.stopAgent((await target.agent(c, args.agent)).id, { graceMs: args.graceMs }),
      );
      const summary = agentSummary(agent);
      return { text: `agent ${agentLabel(agent)}: ${ended(agent)}\n${json(summary)}`, data: { agent: summary } };
    },
  }),

  tool({
    name: "exec",
    description: `Run a command to completion on the host and return its exit code, stdout and stderr (like ssh host cmd). Pass argv, or command for a shell command line. Killed after timeoutSec (default 30). Each stream shows at most ${EXEC_REPLY_STREAM_BYTES / 1024} KiB (beginning and end, with a marker saying what was left out). For long-running commands use agent_start.`,
    write: true,
    input: z.object({
      host,
      argv: argv.optional().describe('program and arguments, e.g. ["git", "status"]'),
      command: command.optional().describe("a shell command line, run with /bin/sh -c"),
      cwd: z.string().min(1).max(4096).optional(),
      env,
      timeoutSec: z
        .number()
        .int()
        .min(1)
        .max(EXEC_MAX_TIMEOUT_MS / 1000)
        .optional(),
    }),
    async run(args, { targets }) {
      const line = commandLine(args);
      const r = await targets.get(args.host).use((c) =>
        c.exec(line.argv, {
          shell: line.shell,
          cwd: args.cwd,
          env: args.env,
          timeoutMs: args.timeoutSec === undefined ? undefined : args.timeoutSec * 1000,
        }),
      );
      const out = headAndTail(r.stdout, EXEC_REPLY_STREAM_BYTES, "stdout");
      const err = headAndTail(r.stderr, EXEC_REPLY_STREAM_BYTES, "stderr");
      const status = r.timedOut
        ? `killed after the ${args.timeoutSec ?? 30} s timeout (${r.signal ?? "SIGKILL"})`
        : r.signal
          ? `killed by ${r.signal}`
          : `exit code ${r.exitCode}`;
      // The host keeps the first 1 MiB (maxOutputBytes) of each stream and discards the rest: say so.
      const hostCut = r.truncated ? "; output past 1 MiB per stream was discarded by the host" : "";
      const data = {
        exitCode: r.exitCode,
        signal: r.signal,
        timedOut: r.timedOut,
        durationMs: r.durationMs,
        stdout: out.text,
        stderr: err.text,
        truncated: r.truncated || out.omitted > 0 || err.omitted > 0,
      };
      const text = `${status} (${r.durationMs} ms${hostCut})\n--- stdout ---\n${data.stdout}\n--- stderr ---\n${data.stderr}`;
      return { text, data };
    },
  }),
];
