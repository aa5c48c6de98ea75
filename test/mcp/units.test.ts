/**
 * The pure parts of `paseo mcp`: named keys (src/client/terminal-keys.ts), output text cleanup and cutting
 * (src/cli/mcp/text.ts), the tail finder of agent_output, error wording, and the config snippets.
 */
import { describe, expect, it } from "vitest";
import { KeyNameError, keyBytes } from "../../src/client/terminal-keys.js";
import { tailStart } from "../../src/cli/mcp/agent-output.js";
import { mcpConfigSnippet, shellWord } from "../../src/cli/mcp/client-config.js";
import { failureText, toolFailure } from "../../src/cli/mcp/errors.js";
import { headAndTail, plainText, utf8Boundary } from "../../src/cli/mcp/text.js";
import { OfferError } from "../../src/protocol/offer-errors.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("named keys", () => {
  it("map to what a terminal sends", () => {
    expect(keyBytes("Enter")).toBe("\r");
    expect(keyBytes("tab")).toBe("\t");
    expect(keyBytes("Esc")).toBe("\x1b");
    expect(keyBytes("Backspace")).toBe("\x7f");
    expect(keyBytes("Ctrl-C")).toBe("\x03");
    expect(keyBytes("ctrl+d")).toBe("\x04");
    expect(keyBytes("C-z")).toBe("\x1a");
    expect(keyBytes("^[")).toBe("\x1b");
    expect(keyBytes("Alt-b")).toBe("\x1bb");
    expect(keyBytes("Alt-Left")).toBe("\x1b\x1b[D");
    expect(keyBytes("F5")).toBe("\x1b[15~");
    expect(keyBytes("Up")).toBe("\x1b[A");
    expect(keyBytes("Up", { applicationCursor: true })).toBe("\x1bOA");
    expect(keyBytes("End", { applicationCursor: true })).toBe("\x1bOF");
  });

  it("refuse unknown names with a named error that lists the names", () => {
    for (const bad of ["Ctrl-1", "Enterr", "", "Ctrl-", "Hyper-x"]) {
      expect(() => keyBytes(bad), bad).toThrow(KeyNameError);
    }
    expect(() => keyBytes("Entr")).toThrow(/unknown key "Entr": use Enter, Tab/);
  });
});

describe("output text", () => {
  it("drops colours, titles and cursor moves; resolves carriage-return overwrites", () => {
    expect(plainText("\x1b[1;31mred\x1b[0m plain\r\n")).toBe("red plain\n");
    expect(plainText("\x1b]0;title\x07after")).toBe("after");
    expect(plainText("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\")).toBe("link");
    expect(plainText("10%\r50%\r100%\ndone")).toBe("100%\ndone");
    expect(plainText("a\x1b(Bb\x1b=c\x00\x07d\te")).toBe("abcd\te");
    expect(plainText("\u009b31mx")).toBe("x");
  });

  it("never splits a UTF-8 character", () => {
    const b = bytes("aé€😀");
    expect(utf8Boundary(b, 2)).toBe(1); // inside é
    expect(utf8Boundary(b, 3)).toBe(3);
    expect(utf8Boundary(b, 8)).toBe(6); // inside 😀
    expect(utf8Boundary(b, 100)).toBe(b.length);
  });

  it("cuts long output to its head and tail with a marker saying how much is missing", () => {
    const b = bytes(`${"a".repeat(1000)}${"z".repeat(1000)}`);
    const { text, omitted } = headAndTail(b, 200, "stdout");
    expect(omitted).toBe(1800);
    expect(text).toBe(`${"a".repeat(100)}\n[… paseo: 1800 bytes of stdout omitted …]\n${"z".repeat(100)}`);
    expect(headAndTail(bytes("short"), 200, "stdout")).toEqual({ text: "short", omitted: 0 });
  });

  it("finds where the last N lines start, within the byte budget", () => {
    const b = bytes("one\ntwo\nthree\nfour\n");
    expect(tailStart(b, 2, 100)).toEqual({ start: 8, cut: false }); // "three\nfour\n"
    expect(tailStart(b, 10, 100)).toEqual({ start: 0, cut: false });
    expect(tailStart(bytes("one\ntwo"), 1, 100)).toEqual({ start: 4, cut: false }); // a last line without \n counts
    expect(tailStart(b, 4, 7)).toEqual({ start: 12, cut: true }); // the budget decides: the last 7 bytes, "ee\nfour\n"
  });
});

describe("tool errors", () => {
  it("carry the code, a redacted message and the next step", () => {
    const f = toolFailure(
      new OfferError("bad offer https://relay.example/#offer=SECRETSECRETSECRETSECRETSECRETSECRET1234"),
    );
    expect(f.code).toBe("OFFER_INVALID");
    expect(f.message).not.toContain("SECRET");
    expect(failureText({ code: "NOT_FOUND", message: "no agent", next: "call agents_list" })).toBe(
      "NOT_FOUND: no agent\nNext: call agents_list",
    );
    expect(toolFailure(new Error("boom")).code).toBe("INTERNAL");
  });
});

describe("mcp config snippets", () => {
  it("quote what a shell would split", () => {
    expect(shellWord("--home")).toBe("--home");
    expect(shellWord("/tmp/a b")).toBe("'/tmp/a b'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(
      mcpConfigSnippet({
        client: "claude-code",
        serverName: "paseo",
        command: "paseo",
        args: ["mcp", "--home", "/x y"],
      }).text,
    ).toBe("claude mcp add paseo -- paseo mcp --home '/x y'");
  });
});
