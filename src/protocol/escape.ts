/**
 * escapeControls(): make remote text safe to print on a terminal. Agent names, commands, ids, cwd and error
 * messages come from another machine (or another user of it); printed raw, an ESC/OSC/CSI sequence in them can
 * rewrite the user's screen, set the window title, plant clipboard contents (OSC 52) or hide text. Every
 * human-facing table and message the CLI prints from remote data goes through this one helper; JSON output keeps
 * the exact values.
 *
 * Escaped, so that they print as visible text:
 *   - C0 controls (U+0000–U+001F) and DEL (U+007F): \n \r \t as themselves written out, the rest as \xHH (ESC → \x1b)
 *   - C1 controls (U+0080–U+009F; a lone U+009B is a CSI on many terminals): \u009b
 *   - bidirectional overrides, embeddings, isolates and marks (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and
 *     the line/paragraph separators U+2028/U+2029, which reorder or split what the reader sees: \u202e
 * Backslashes are left alone: names and paths stay readable, and escaping twice changes nothing (idempotent).
 * Pure (no Node built-ins), so the client library and the browser can use it too.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(ch: string): string {
  const short = SHORT[ch];
  if (short) return short;
  const cp = ch.charCodeAt(0);
  return cp < 0x80 ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
}

export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}
