/** The escape keys of `paseo attach` (Ctrl-], Enter ~ . / t / ? / ~) and how an agent's end becomes an exit code. */
import { describe, expect, it } from "vitest";
import { EscapeKeys } from "../../src/cli/terminal/detach-keys.js";
import { describeEnd } from "../../src/cli/commands/attach.js";
import type { AgentInfo } from "../../src/protocol/rpc.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function feed(keys: EscapeKeys, s: string) {
  const r = keys.feed(enc(s));
  return { forward: dec(r.forward), actions: r.actions };
}

describe("EscapeKeys", () => {
  it("Ctrl-] detaches anywhere; what follows it is dropped", () => {
    expect(feed(new EscapeKeys(), "ls\x1dmore")).toEqual({ forward: "ls", actions: ["detach"] });
  });

  it("~. detaches only at the start of a line (or of the session)", () => {
    expect(feed(new EscapeKeys(), "~.")).toEqual({ forward: "", actions: ["detach"] });
    const k = new EscapeKeys();
    expect(feed(k, "a~.")).toEqual({ forward: "a~.", actions: [] });
    expect(feed(k, "\r~.")).toEqual({ forward: "\r", actions: ["detach"] });
  });

  it("holds a ~ across reads until the next key decides", () => {
    const k = new EscapeKeys();
    expect(feed(k, "echo\r~")).toEqual({ forward: "echo\r", actions: [] });
    expect(feed(k, ".")).toEqual({ forward: "", actions: ["detach"] });
    const k2 = new EscapeKeys();
    expect(feed(k2, "\n~")).toEqual({ forward: "\n", actions: [] });
    expect(feed(k2, "x")).toEqual({ forward: "~x", actions: [] });
  });

  it("~t takes control, ~? shows help, ~~ sends one ~", () => {
    const k = new EscapeKeys();
    expect(feed(k, "~t")).toEqual({ forward: "", actions: ["take"] });
    expect(feed(k, "\r~?")).toEqual({ forward: "\r", actions: ["help"] });
    expect(feed(k, "\r~~")).toEqual({ forward: "\r~", actions: [] });
    expect(feed(k, "~.")).toEqual({ forward: "~.", actions: [] }); // after ~~ we are mid-line
  });
});

describe("describeEnd", () => {
  const base = { name: "build" } as AgentInfo;
  it("mirrors the agent's exit code, and 128+n for a signal", () => {
    expect(describeEnd({ ...base, exitCode: 3, signal: null, state: "exited" })).toEqual({ text: "agent build exited with code 3", code: 3 });
    expect(describeEnd({ ...base, exitCode: null, signal: "SIGTERM", state: "killed" })).toEqual({ text: "agent build was killed by SIGTERM", code: 143 });
    expect(describeEnd({ ...base, exitCode: null, signal: null, state: "failed" }).code).toBe(1);
  });
  it("escapes control characters in the remote name", () => {
    expect(describeEnd({ ...base, name: "x\x1b]0;pwn\x07", exitCode: 0, signal: null, state: "exited" }).text).toBe("agent x\\x1b]0;pwn\\x07 exited with code 0");
  });
});
