/** The escape keys of `paseo attach` (Ctrl-], Enter ~ . / t / ? / ~). */
import { describe, expect, it } from "vitest";
import { EscapeKeys } from "../../src/cli/terminal/detach-keys.js";

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
