/**
 * `paseo attach <id|name>`: this terminal becomes the agent's terminal. Raw mode; the agent's screen is drawn from
 * the daemon's snapshot, then live output; keystrokes (Ctrl-C included) go to the program when this client holds
 * the writer lane; local resizes (SIGWINCH) resize the agent's PTY; a dropped connection reconnects and resumes
 * with no lost or repeated bytes (also across a restart of the local daemon: see ../resilient-host.ts). Detach with Ctrl-] or
 * Enter ~ . (the agent keeps running; status 0). When the agent ends, prints how and exits with its status like
 * `logs -f` (n, 128 + signal; paseo's own failures 255: ../exit-status.ts). The local terminal is always restored.
 */
import type { Command } from "commander";
import { resolveAgentRef } from "../../client/agent-ref.js";
import { TerminalSession, type LaneChange } from "../../client/terminal-session.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import { TTY_MAX_COLS, TTY_MAX_ROWS, TTY_MIN_COLS, TTY_MIN_ROWS } from "../../protocol/rpc-params.js";
import type { ClientFlags } from "../client-factory.js";
import { DEFAULT_RECONNECT_TIMEOUT_S, describeEnd } from "../follow.js";
import { ResilientHost } from "../resilient-host.js";
import { clientOptions, intBetween } from "./client.js";
import { EscapeKeys, ESCAPE_HELP } from "../terminal/detach-keys.js";
import { localSize, RawTerminal } from "../terminal/raw-terminal.js";

export class NotATerminalInputError extends PaseoError {
  constructor() {
    super(
      "NOT_A_TTY",
      "paseo attach needs a terminal on stdin (it puts it in raw mode); to watch without one use `paseo logs -f <id>`, to type into the agent `paseo send <id> <text>`",
    );
  }
}

type Flags = ClientFlags & { readOnly?: boolean; take?: boolean; reconnectTimeout?: number };

export function register(program: Command): void {
  clientOptions(program.command("attach"))
    .description("attach this terminal to a terminal agent (started with `paseo run --tty`)")
    .argument("<agent>", "agent id, id prefix or name")
    .option("--read-only", "watch only: never send input or size")
    .option("--take", "take control even if another client has it (that client becomes a watcher)")
    .option(
      "--reconnect-timeout <seconds>",
      "keep trying this long after the connection or the daemon is lost, then exit 255 (default 30; 0 = at once)",
      intBetween(0, 86_400),
    )
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

async function attach(ref: string, flags: Flags): Promise<number> {
  if (!process.stdin.isTTY) throw new NotATerminalInputError();
  // In raw mode a line needs "\r\n"; the host's lost/back lines go out like the other notices.
  const host = await ResilientHost.open(flags, flags.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT_S, (line) =>
    process.stderr.write(`\r\n[${line}]\r\n`),
  );
  const raw = new RawTerminal();
  try {
    const agent = await resolveAgentRef(host.daemon, ref);
    const term = new TerminalSession(host, agent.id, {
      ...clampSize(localSize()),
      readOnly: flags.readOnly,
      take: flags.take,
    });
    await term.start();
    // The daemon's kill switch (ServerInfo.inputEnabled in the welcome): say so once, before the screen is drawn.
    if (host.daemon.server?.inputEnabled === false && !flags.readOnly)
      process.stderr.write(
        `[paseo: input is turned off on this daemon; you can watch. Turn it on there: paseo daemon input on]\r\n`,
      );
    raw.enter();
    const outcome = await drive(term, flags, () => raw.restore());
    raw.restore();
    const label = `${escapeControls(agent.name)} (${agent.id})`;
    if (outcome === null) {
      process.stderr.write(`\r\n[detached from ${label}; it keeps running — paseo attach ${agent.id}]\r\n`);
      return 0;
    }
    const end = describeEnd(outcome);
    process.stderr.write(`\r\n[${end.message}]\r\n`);
    return end.status;
  } finally {
    raw.restore();
    host.close();
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
  // Output honours stdout's backpressure: while we wait for "drain", TerminalSession holds at most
  // MAX_PENDING_BYTES and then pauses the daemon's stream (the log on disk is the buffer).
  const output = (async () => {
    for await (const data of term) if (!stdout.write(data)) await new Promise((r) => stdout.once("drain", r));
  })().catch(() => {}); // a failure surfaces through term.done

  const onInputError = (err: unknown) => {
    const e = err as PaseoError;
    if (e.code === "NOT_WRITER" || e.code === "INPUT_DISABLED") {
      if (refusedShown) return;
      refusedShown = true; // once per lane state: typing while watching would otherwise flood the screen
      notice(
        e.code === "INPUT_DISABLED"
          ? `input is turned off on this daemon (paseo daemon input on there) [${e.code}]`
          : flags.readOnly
            ? `read-only: input is not sent [${e.code}]`
            : `watching: another client has control; Enter ~ t takes it [${e.code}]`,
      );
    } else if (e.code !== "TERMINAL_CLOSED")
      notice(`input failed: ${escapeControls(e.message ?? String(e))} [${e.code ?? "ERROR"}]`);
  };
  const onLane = (l: LaneChange) => {
    refusedShown = false;
    if (l.reason === "taken") notice("another client took control; you are watching now (Enter ~ t takes it back)");
    else if (l.reason === "writer-left" && !flags.readOnly)
      notice("the client in control left; Enter ~ t takes control");
    else if (l.reason === "attached" && l.lane === "watcher")
      notice("reattached as a watcher: another client has control");
  };
  const offLane = term.on("lane", onLane);
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
      offLane();
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
          term.detach().then(() => output.then(() => resolve(null)), reject);
          return;
        }
      }
    }
    stdin.on("data", onKeys);
    term.done.then(
      (agent) => {
        cleanup();
        void output.then(() => resolve(agent)); // every byte is on the screen before "[agent … exited …]"
      },
      (err) => {
        cleanup();
        restore();
        reject(err);
      },
    );
  });
}
