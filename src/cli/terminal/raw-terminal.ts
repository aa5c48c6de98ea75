/**
 * The local terminal of `paseo attach`: raw mode while attached, and ALWAYS restored afterwards — on detach, on the
 * agent's exit, on errors, on SIGTERM / SIGHUP / SIGINT / SIGQUIT, on an uncaught exception or rejection, and at
 * process exit (restore() is idempotent and synchronous, so the 'exit' hook can run it too).
 *
 * Restoring also undoes modes the remote program may have switched on in our terminal (alternate screen, hidden
 * cursor, mouse reporting, bracketed paste, application keypad/cursor keys, colours), so the shell the user returns
 * to is usable even if the program never got to clean up (it was killed, or we detached mid-screen).
 */
import { spawnSync } from "node:child_process";
import { fstatSync } from "node:fs";
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
    this.state = "raw";
    this.rawOutput();
    this.stdin.resume();
  }

  /**
   * Node's setRawMode (libuv UV_TTY_MODE_RAW) clears input processing and echo but leaves OUTPUT processing on
   * (`opost onlcr`), unlike cfmakeraw() in ssh and tmux: the tty would turn every "\n" the remote program writes
   * into "\r\n" — a full-screen program's bare "\n" (cursor down, same column) would jump to column 0, and every
   * "\r\n" would arrive as "\r\r\n". Node has no termios API, so `stty -opost` does it, run on our own stdin.
   *
   * Restoring needs no second process: setRawMode(false) puts back the whole termios that libuv saved when raw mode
   * began (opost included), and Node itself resets stdio's termios at exit, even on a fatal signal. That holds
   * only when stdout is the same terminal as stdin, so only then is opost touched (stdout elsewhere — a pipe, a
   * file, another tty — is left alone). `stty -g` save + `stty <saved>` restore would add a second process at start
   * and one on every exit path (signal handlers included) to redo what libuv already does.
   * Cost: one short-lived `stty`, ~2.3 ms p50 added to enter() at load ~6.6 on 2 cores (0.03 ms without it).
   */
  private rawOutput(): void {
    const fd = sameTerminal(this.stdin, this.stdout);
    if (fd === null) return;
    const r = spawnSync("stty", ["-opost"], { stdio: [fd, "ignore", "pipe"], timeout: 5000 }); // stty acts on its stdin
    if (r.error || r.status !== 0) {
      const why = r.error?.message || String(r.stderr).trim() || `status ${r.status}`;
      // Not fatal: attach still works, line ends may just show an extra CR.
      this.stdout.write(
        `[paseo: could not turn off output processing (stty -opost: ${why.slice(0, 120)}); lines may be misplaced]\r\n`,
      );
    }
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

/** stdin's fd when stdin and stdout are the same terminal (a termios change on one is a change on the other), else null. */
function sameTerminal(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): number | null {
  const fin = (stdin as { fd?: number }).fd;
  const fout = (stdout as { fd?: number }).fd;
  if (!stdin.isTTY || !stdout.isTTY || typeof fin !== "number" || typeof fout !== "number") return null;
  try {
    const [a, b] = [fstatSync(fin), fstatSync(fout)];
    return a.rdev === b.rdev && a.ino === b.ino ? fin : null;
  } catch {
    return null;
  }
}

/**
 * The local terminal's size: stdout's, else stderr's (so `paseo run --tty --json … | jq` still takes the size of
 * the terminal it was typed in), else 80×24.
 */
export function localSize(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): {
  cols: number;
  rows: number;
} {
  for (const s of streams) if (s.isTTY && s.columns > 0 && s.rows > 0) return { cols: s.columns, rows: s.rows };
  return { cols: 80, rows: 24 };
}
