/**
 * A terminal agent's screen as plain text. The daemon sends a TerminalScreen (docs/protocol.md §8.1): xterm
 * serialize-addon output that reproduces the screen when written to a fresh cols × rows terminal. Here it is
 * written to an @xterm/headless terminal (the same emulator the daemon keeps the screen with) and read back line by
 * line: what a person looking at the terminal would see, without colours — plus the cursor and the modes a key
 * sender needs (application cursor keys).
 */
import headless from "@xterm/headless";
import type { TerminalScreen } from "../../protocol/rpc.js";

/** Scrollback lines the daemon's snapshot carries at most (src/daemon/agents/screen-state.ts SCREEN_SCROLLBACK). */
const SNAPSHOT_SCROLLBACK = 1000;

export interface ScreenText {
  /** The visible rows, top to bottom, trailing spaces removed (trailing empty rows too). */
  lines: string[];
  /** Up to the requested number of lines above the visible rows (oldest first). */
  scrollback: string[];
  cols: number;
  rows: number;
  /** Cursor position in the visible rows, 0-based. */
  cursor: { row: number; col: number };
  /** A full-screen program (vim, less, htop) is showing: the alternate buffer. */
  alternate: boolean;
  /** DECCKM: arrows must be sent as `ESC O x`. */
  applicationCursor: boolean;
}

export async function screenText(screen: TerminalScreen, scrollbackLines = 0): Promise<ScreenText> {
  const term = new headless.Terminal({
    cols: screen.cols,
    rows: screen.rows,
    scrollback: SNAPSHOT_SCROLLBACK,
    allowProposedApi: true,
  });
  try {
    await new Promise<void>((resolve) => term.write(screen.data, resolve));
    const buffer = term.buffer.active;
    const line = (i: number) => buffer.getLine(i)?.translateToString(true) ?? "";
    const lines: string[] = [];
    for (let r = 0; r < term.rows; r++) lines.push(line(buffer.baseY + r));
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const scrollback: string[] = [];
    for (let i = Math.max(0, buffer.baseY - scrollbackLines); i < buffer.baseY; i++) scrollback.push(line(i));
    return {
      lines,
      scrollback,
      cols: term.cols,
      rows: term.rows,
      cursor: { row: buffer.cursorY, col: buffer.cursorX },
      alternate: buffer.type === "alternate",
      applicationCursor: term.modes.applicationCursorKeysMode,
    };
  } finally {
    term.dispose();
  }
}
