/**
 * The local terminal of `paseo attach`: raw mode while attached, and ALWAYS restored afterwards — on detach, on the
 * agent's exit, on errors, on SIGTERM / SIGHUP / SIGINT / SIGQUIT, on an uncaught exception or rejection, and at
 * process exit (restore() is idempotent and synchronous, so the 'exit' hook can run it too).
 *
 * Restoring also undoes modes the remote program may have switched on in our terminal (alternate screen, hidden
 * cursor, mouse reporting, bracketed paste, application keypad/cursor keys, colours), so the shell the user returns
 * to is usable even if the program never got to clean up (it was killed, or we detached mid-screen).
 */
import { constants } from "node:os";
import { failureExitStatus } from "../exit-status.js";
import { reportError } from "../output.js";

export const RESTORE_MODES =
  "\x1b[?1049l" + // leave the alternate screen (back to what was there before attach)
  "\x1b[?25h" + // show the cursor
  "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l" + // mouse reporting off
  "\x1b[?2004l" + // bracketed paste off
  "\x1b[?1l\x1b>" + // normal cursor keys and keypad
  "\x1b[0m"; // default colours

const SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT"] as const;

export class RawTerminal {
  private state: "cooked" | "raw" | "restored" = "cooked";
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.restore();
    process.exit(128 + (constants.signals[signal] ?? 1));
  };
  private readonly onFatal = (err: unknown) => {
    this.restore();
    reportError(err); // redacted: never a link or secret
    process.exit(failureExitStatus());
  };
  private readonly onExit = () => this.restore();

  constructor(
    private readonly stdin: NodeJS.ReadStream = process.stdin,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
  ) {}

  enter(): void {
    if (this.state !== "cooked") return;
    // Hooks first: a signal arriving between setRawMode and the hooks would otherwise leave the terminal raw.
    for (const s of SIGNALS) process.on(s, this.onSignal);
    process.on("uncaughtException", this.onFatal);
    process.on("unhandledRejection", this.onFatal);
    process.on("exit", this.onExit);
    this.stdin.setRawMode(true);
    this.stdin.resume();
    this.state = "raw";
  }

  /** Put the terminal back the way it was. Safe to call any number of times, from any hook. */
  restore(): void {
    if (this.state !== "raw") return;
    this.state = "restored";
    try {
      this.stdout.write(RESTORE_MODES);
    } catch {
      // stdout gone (terminal closed): nothing to restore on it
    }
    try {
      this.stdin.setRawMode(false);
    } catch {
      // stdin gone
    }
    this.stdin.pause();
    for (const s of SIGNALS) process.off(s, this.onSignal);
    process.off("uncaughtException", this.onFatal);
    process.off("unhandledRejection", this.onFatal);
    process.off("exit", this.onExit);
  }
}

/**
 * The local terminal's size: stdout's, else stderr's (so `paseo run --tty --json … | jq` still takes the size of
 * the terminal it was typed in), else 80×24.
 */
export function localSize(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): { cols: number; rows: number } {
  for (const s of streams) if (s.isTTY && s.columns > 0 && s.rows > 0) return { cols: s.columns, rows: s.rows };
  return { cols: 80, rows: 24 };
}
