/**
 * Local escape keys of `paseo attach`, filtered out of the keystrokes before they reach the agent:
 *   - Ctrl-]            detach (like telnet)
 *   - Enter ~ .         detach (like ssh: `~` right after Enter, or as the very first key)
 *   - Enter ~ t         take control (the writer lane)
 *   - Enter ~ ?         list these keys
 *   - Enter ~ ~         send one `~`
 * A `~` at the start of a line is held until the next key decides what it was (so it may span two reads); any
 * other key sends the held `~` and itself. Pure: bytes in, bytes to forward and actions out.
 */
export type EscapeAction = "detach" | "take" | "help";

export const ESCAPE_HELP =
  "escapes: Ctrl-] or Enter ~ . detach · Enter ~ t take control · Enter ~ ~ sends ~ · Enter ~ ? this help";

const CTRL_RIGHT_BRACKET = 0x1d;
const TILDE = 0x7e;
const CR = 0x0d;
const LF = 0x0a;

export class EscapeKeys {
  private lineStart = true;
  private held = false;

  /** Bytes to forward and the actions found, in order. After "detach" the rest of the input is dropped. */
  feed(input: Uint8Array): { forward: Uint8Array; actions: EscapeAction[] } {
    const out: number[] = [];
    const actions: EscapeAction[] = [];
    for (const b of input) {
      if (this.held) {
        this.held = false;
        if (b === 0x2e /* . */) {
          actions.push("detach");
          break;
        }
        if (b === 0x74 /* t */) actions.push("take");
        else if (b === 0x3f /* ? */) actions.push("help");
        else if (b === TILDE) out.push(TILDE);
        else out.push(TILDE, b);
        this.lineStart = b === CR || b === LF;
        continue;
      }
      if (b === CTRL_RIGHT_BRACKET) {
        actions.push("detach");
        break;
      }
      if (this.lineStart && b === TILDE) {
        this.held = true;
        continue;
      }
      out.push(b);
      this.lineStart = b === CR || b === LF;
    }
    return { forward: Uint8Array.from(out), actions };
  }
}
