/**
 * Program output as text an assistant can read: bytes decoded as UTF-8 (invalid sequences become U+FFFD), terminal
 * control sequences removed (colours, cursor moves, titles — noise to a model, and a way for remote output to smuggle
 * invisible text), and carriage-return overwrites resolved the way a terminal shows them (a progress bar's last
 * state, not its hundred frames). `raw` callers get the decoded bytes unchanged.
 */

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC (ESC P|X|^|_ … ST), charset designations (ESC ( B),
// and the remaining two-byte escapes (ESC 7, ESC =, …). The C1 forms (U+009B CSI, U+009D OSC) as well.
const ESCAPES =
  /\x1b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|(?:\x1b\]|\u009d)[^\x07\x1b\u009c]*(?:\x07|\x1b\\|\u009c)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[()*+#%][\x20-\x7e]?|\x1b[\x20-\x7e]?/g;
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u0080-\u009f]/g;

const decoder = new TextDecoder("utf-8");

export function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** `text` without terminal control sequences; `\r\n` → `\n`; a line rewritten with `\r` shows its last state. */
export function plainText(text: string): string {
  const stripped = text.replace(ESCAPES, "").replace(CONTROLS, "");
  return stripped
    .split("\n")
    .map((line) => {
      const body = line.endsWith("\r") ? line.slice(0, -1) : line;
      const cr = body.lastIndexOf("\r");
      return cr < 0 ? body : body.slice(cr + 1);
    })
    .join("\n");
}

/** The largest position ≤ `pos` that does not split a UTF-8 character of `bytes` (at most 3 bytes back). */
export function utf8Boundary(bytes: Uint8Array, pos: number): number {
  let p = Math.min(pos, bytes.length);
  for (let back = 0; back < 3 && p > 0 && p < bytes.length && (bytes[p]! & 0xc0) === 0x80; back++) p--;
  return p;
}

/**
 * `bytes` as text of at most about `cap` bytes: when longer, its first and last halves with a marker saying how
 * much was left out between them (an assistant needs a command's first error and its final summary alike).
 */
export function headAndTail(bytes: Uint8Array, cap: number, what: string): { text: string; omitted: number } {
  if (bytes.length <= cap) return { text: decode(bytes), omitted: 0 };
  const head = utf8Boundary(bytes, Math.floor(cap / 2));
  let tail = bytes.length - Math.floor(cap / 2);
  while (tail < bytes.length && (bytes[tail]! & 0xc0) === 0x80) tail++;
  const omitted = tail - head;
  return {
    text: `${decode(bytes.subarray(0, head))}\n[… paseo: ${omitted} bytes of ${what} omitted …]\n${decode(bytes.subarray(tail))}`,
    omitted,
  };
}
