/**
 * `paseo attach <id|name>`: this terminal becomes the agent's terminal. Raw mode; the agent's screen is drawn from
 * the daemon's snapshot, then live output; keystrokes (Ctrl-C included) go to the program when this client holds
 * the writer lane; local resizes (SIGWINCH) resize the agent's PTY; a dropped connection reconnects and resumes
 * with no lost or repeated bytes. Detach with Ctrl-] or Enter ~ . (the agent keeps running). When the agent ends,
 * prints how and exits with its exit code (a signal → 128 + n). The local terminal is always restored.
 */
import type { Command } from "commander";
import { resolveAgentRef } from "../../client/agent-ref.js";
import type { TerminalSession, LaneChange } from "../../client/terminal-session.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import { TTY_MAX_COLS, TTY_MAX_ROWS, TTY_MIN_COLS, TTY_MIN_ROWS } from "../../protocol/rpc-params.js";
import { openClient, type ClientFlags } from "../client-factory.js";
import { clientOptions } from "./client.js";
import { EscapeKeys, ESCAPE_HELP } from "../terminal/detach-keys.js";
import { localSize, RawTerminal, signalExitCode } from "../terminal/raw-terminal.js";

export class NotATerminalInputError extends PaseoError {
  constructor() {
    super(
      "NOT_A_TTY",
      "paseo attach needs a terminal on stdin (it puts it in raw mode); to watch without one use `paseo logs -f <id>`, to type into the agent `paseo send <id> <text>`",
    );
  }
}

type Flags = ClientFlags & { readOnly?: boolean; take?: boolean };

export function register(program: Command): void {
  clientOptions(program.command("attach"))
    .description("attach this terminal to a terminal agent (started with `paseo run --tty`)")
    .argument("<agent>", "agent id, id prefix or name")
    .option("--read-only", "watch only: never send input or size")
    .option("--take", "take control even if another client has it (that client becomes a watcher)")
    .addHelpText(
      "after",
      `
Keys while attached (like telnet and ssh):
  Ctrl-]        detach (the agent keeps running)
  Enter ~ .     detach
  Enter ~ t     take control from another client
  Enter ~ ?     list these keys
  Enter ~ ~     send a literal ~

One client at a time controls a terminal (the writer lane): the first to attach, or the last to --take. Others
watch; their input is refused (NOT_WRITER). The writer's terminal size is the agent's size.

Examples:
  paseo run --tty --name sh -- bash
  paseo attach sh
  paseo attach sh --read-only --relay ~/paseo-offer.json`,
    )
    .action(async (ref: string, flags: Flags) => {
      process.exitCode = await attach(ref, flags);
    });
}

function clampSize(size: { cols: number; rows: number }): { cols: number; rows: number } {
  return {
    cols: Math.min(TTY_MAX_COLS, Math.max(TTY_MIN_COLS, size.cols)),
    rows: Math.min(TTY_MAX_ROWS, Math.max(TTY_MIN_ROWS, size.rows)),
  };
}

/** How an ended agent is reported, and the exit code that mirrors it. */
export function describeEnd(agent: AgentInfo): { text: string; code: number } {
  const name = escapeControls(agent.name);
  if (agent.signal) return { text: `agent ${name} was killed by ${agent.signal}`, code: signalExitCode(agent.signal) };
  if (agent.exitCode === null) return { text: `agent ${name} ended (${agent.state})`, code: 1 };
  return { text: `agent ${name} exited with code ${agent.exitCode}`, code: agent.exitCode };
}

async function attach(ref: string, flags: Flags): Promise<number> {
  if (!process.stdin.isTTY) throw new NotATerminalInputError();
  const client = await openClient(flags, { reconnect: true });
  const raw = new RawTerminal();
  try {
    const agent = await resolveAgentRef(client, ref);
    const term = await client.attach(agent.id, { ...clampSize(localSize()), readOnly: flags.readOnly, take: flags.take });
    raw.enter();
    const outcome = await drive(term, flags, () => raw.restore());
    raw.restore();
    const label = `${escapeControls(agent.name)} (${agent.id})`;
    if (outcome === null) {
      process.stderr.write(`\r\n[detached from ${label}; it keeps running — paseo attach ${agent.id}]\r\n`);
      return 0;
    }
    const end = describeEnd(outcome);
    process.stderr.write(`\r\n[${end.text}]\r\n`);
    return end.code;
  } finally {
    raw.restore();
    client.close();
  }
}

/** Pump bytes both ways until the agent ends (its AgentInfo) or the user detaches (null). */
function drive(term: TerminalSession, flags: Flags, restore: () => void): Promise<AgentInfo | null> {
  const stdout = process.stdout;
  const stdin = process.stdin;
  const keys = new EscapeKeys();
  let refusedShown = false;
  const notice = (text: string) => stdout.write(`\r\n[paseo: ${text}]\r\n`);

  // A fresh terminal for the snapshot: it was serialized for an empty screen with the cursor at the top left.
  stdout.write("\x1b[0m\x1b[H\x1b[2J");
  const offData = term.onData((d) => stdout.write(d));

  const onInputError = (err: unknown) => {
    const e = err as PaseoError;
    if (e.code === "NOT_WRITER") {
      if (refusedShown) return;
      refusedShown = true; // once per lane state: typing while watching would otherwise flood the screen
      notice(flags.readOnly ? `read-only: input is not sent [${e.code}]` : `watching: another client has control; Enter ~ t takes it [${e.code}]`);
    } else if (e.code !== "TERMINAL_CLOSED") notice(`input failed: ${escapeControls(e.message ?? String(e))} [${e.code ?? "ERROR"}]`);
  };
  const onLane = (l: LaneChange) => {
    refusedShown = false;
    if (l.reason === "taken") notice("another client took control; you are watching now (Enter ~ t takes it back)");
    else if (l.reason === "writer-left" && !flags.readOnly) notice("the client in control left; Enter ~ t takes control");
    else if (l.reason === "attached" && l.lane === "watcher") notice("reattached as a watcher: another client has control");
  };
  const offLane = term.on("lane", onLane);
  const offState = term.on("state", (s) => {
    if (s === "reconnecting") notice("connection lost; reconnecting (output resumes where it stopped)");
  });
  const onResize = () => {
    if (flags.readOnly) return;
    const { cols, rows } = clampSize(localSize());
    term.resize(cols, rows).catch(() => {}); // a watcher's resize is only remembered; failures are not fatal
  };
  process.on("SIGWINCH", onResize);

  return new Promise<AgentInfo | null>((resolve, reject) => {
    const cleanup = () => {
      stdin.off("data", onKeys);
      process.off("SIGWINCH", onResize);
      offData();
      offLane();
      offState();
    };
    function onKeys(chunk: Buffer) {
      const { forward, actions } = keys.feed(chunk);
      if (forward.length > 0) term.write(forward).catch(onInputError);
      for (const action of actions) {
        if (action === "help") notice(ESCAPE_HELP);
        else if (action === "take") {
          if (flags.readOnly) notice("read-only attach: cannot take control (attach without --read-only)");
          else term.take().then(() => notice("you have control"), onInputError);
        } else if (action === "detach") {
          cleanup();
          term.detach().then(() => resolve(null), reject);
          return;
        }
      }
    }
    stdin.on("data", onKeys);
    term.done.then(
      (agent) => {
        cleanup();
        resolve(agent);
      },
      (err) => {
        cleanup();
        restore();
        reject(err);
      },
    );
  });
}
