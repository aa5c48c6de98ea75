/** escapeControls: terminal-unsafe characters become visible escapes; everything else (and backslashes) is kept. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeControls } from "../../src/protocol/escape.js";

describe("escapeControls", () => {
  it("escapes ESC/CSI/OSC, C0, DEL, C1 and bidi overrides", () => {
    expect(escapeControls("\x1b[2J\x1b]0;title\x07")).toBe("\\x1b[2J\\x1b]0;title\\x07");
    expect(escapeControls("a\nb\rc\td\x00\x7f")).toBe("a\\nb\\rc\\td\\x00\\x7f");
    expect(escapeControls("\u009b31m")).toBe("\\u009b31m");
    expect(escapeControls("abc\u202Edcb\u2066x\u2069")).toBe("abc\\u202edcb\\u2066x\\u2069");
    expect(escapeControls("line\u2028sep")).toBe("line\\u2028sep");
  });
  it("keeps printable text, unicode and backslashes as they are", () => {
    expect(escapeControls("build — café 🚀 C:\\x")).toBe("build — café 🚀 C:\\x");
  });
  it("leaves no control character and is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const once = escapeControls(s);
        expect(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(once)).toBe(false);
        expect(escapeControls(once)).toBe(once);
      }),
    );
  });
});
