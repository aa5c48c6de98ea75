/**
 * Named keys → the bytes a terminal sends for them (xterm conventions, what `paseo attach` and the browser terminal
 * send when the key is pressed). Used by `paseo mcp`'s terminal_type, where an assistant names keys ("Enter",
 * "Ctrl-C", "Up") instead of typing escape sequences, and by the browser's extra-keys bar (ctrlOf). Browser-safe.
 *
 * Accepted spellings (case-insensitive): `Enter`/`Return`, `Tab`, `Escape`/`Esc`, `Backspace`, `Space`, `Delete`,
 * `Insert`, `Home`, `End`, `PageUp`, `PageDown`, `Up`/`Down`/`Left`/`Right`, `F1`…`F12`, `Ctrl-<key>` (also
 * `Ctrl+x`, `C-x`, `^X`), `Alt-<key>` (also `M-x`: ESC then the key). Anything else is a KeyNameError naming the
 * key and listing the names.
 */
import { PaseoError } from "../protocol/errors.js";

export class KeyNameError extends PaseoError {
  constructor(name: string) {
    super(
      "BAD_KEY",
      `unknown key "${name.slice(0, 40)}": use Enter, Tab, Escape, Backspace, Space, Delete, Insert, Home, End, PageUp, PageDown, Up, Down, Left, Right, F1…F12, Ctrl-<letter> (e.g. Ctrl-C), Alt-<key>; put literal text in "text"`,
    );
  }
}

/** Ctrl+key as a terminal sends it: letters and @[\]^_ map to 0x00–0x1f, `?` to DEL, space to NUL; others unchanged. */
export function ctrlOf(data: string): string {
  if (data.length !== 1) return data;
  const c = data.toUpperCase().charCodeAt(0);
  if (c >= 0x40 && c <= 0x5f) return String.fromCharCode(c & 0x1f);
  if (data === "?") return "\x7f";
  if (data === " ") return "\x00";
  return data;
}

const FIXED: Record<string, string> = {
  enter: "\r",
  return: "\r",
  tab: "\t",
  escape: "\x1b",
  esc: "\x1b",
  backspace: "\x7f",
  space: " ",
  delete: "\x1b[3~",
  del: "\x1b[3~",
  insert: "\x1b[2~",
  pageup: "\x1b[5~",
  pagedown: "\x1b[6~",
  f1: "\x1bOP",
  f2: "\x1bOQ",
  f3: "\x1bOR",
  f4: "\x1bOS",
  f5: "\x1b[15~",
  f6: "\x1b[17~",
  f7: "\x1b[18~",
  f8: "\x1b[19~",
  f9: "\x1b[20~",
  f10: "\x1b[21~",
  f11: "\x1b[23~",
  f12: "\x1b[24~",
};

/** Cursor keys: their final byte; `ESC O x` in application cursor mode (DECCKM, full-screen programs), else `ESC [ x`. */
const CURSOR: Record<string, string> = { up: "A", down: "B", right: "C", left: "D", home: "H", end: "F" };

export interface KeyOptions {
  /** The terminal is in application cursor mode (DECCKM): arrows, Home and End send `ESC O x`. */
  applicationCursor?: boolean;
}

/** The bytes (as a string of code units < 0x80 or the key's own character) that pressing `name` sends. */
export function keyBytes(name: string, options: KeyOptions = {}): string {
  const key = name.trim();
  const lower = key.toLowerCase();
  const fixed = FIXED[lower];
  if (fixed !== undefined) return fixed;
  const cursor = CURSOR[lower];
  if (cursor !== undefined) return `\x1b${options.applicationCursor ? "O" : "["}${cursor}`;
  const ctrl = /^(?:ctrl[-+]|c-|\^)(.)$/i.exec(key);
  if (ctrl) {
    const bytes = ctrlOf(ctrl[1]!);
    if (bytes === ctrl[1]) throw new KeyNameError(name); // Ctrl with a key that has no control code
    return bytes;
  }
  const alt = /^(?:alt[-+]|m-|meta[-+])(.+)$/i.exec(key);
  if (alt) return `\x1b${alt[1]!.length === 1 ? alt[1] : keyBytes(alt[1]!, options)}`;
  throw new KeyNameError(name);
}
