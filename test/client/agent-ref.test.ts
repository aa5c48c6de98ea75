/** Agent references: exact id > exact name (the running one among reruns) > unique id prefix; named errors otherwise. */
import { describe, expect, it } from "vitest";
import { AgentAmbiguousError, AgentNotFoundError, matchAgentRef } from "../../src/client/agent-ref.js";
import type { AgentInfo } from "../../src/protocol/rpc.js";

function agent(id: string, name: string, state: AgentInfo["state"] = "running"): AgentInfo {
  return {
    id,
    name,
    argv: ["sh"],
    cwd: "/",
    pid: 1,
    state,
    exitCode: null,
    signal: null,
    startedAt: "",
    endedAt: null,
    nextSeq: 1,
    bytes: 0,
  };
}

const agents = [
  agent("3kq7x2ab", "build", "exited"),
  agent("3kq9aaaa", "build"),
  agent("7zzzzzzz", "web"),
  agent("8aaaaaaa", "3kq"),
  agent("9bbbbbbb", "twin", "exited"),
  agent("9ccccccc", "twin", "exited"),
];

describe("matchAgentRef", () => {
  it("an exact id wins over a name and a prefix", () => {
    expect(matchAgentRef(agents, "3kq7x2ab").id).toBe("3kq7x2ab");
  });
  it("a unique name resolves", () => {
    expect(matchAgentRef(agents, "web").id).toBe("7zzzzzzz");
  });
  it("a reused name resolves to the one running agent", () => {
    expect(matchAgentRef(agents, "build").id).toBe("3kq9aaaa");
  });
  it("a name beats an id prefix (like docker)", () => {
    expect(matchAgentRef(agents, "3kq").id).toBe("8aaaaaaa");
  });
  it("a unique id prefix resolves", () => {
    expect(matchAgentRef(agents, "7z").id).toBe("7zzzzzzz");
    expect(matchAgentRef(agents, "3kq7").id).toBe("3kq7x2ab");
  });
  it("an ambiguous prefix names every candidate", () => {
    const err = (() => {
      try {
        matchAgentRef(agents, "9");
      } catch (e) {
        return e as AgentAmbiguousError;
      }
    })();
    expect(err).toBeInstanceOf(AgentAmbiguousError);
    expect(err!.code).toBe("AGENT_AMBIGUOUS");
    expect(err!.message).toContain("9bbbbbbb (twin, exited)");
    expect(err!.message).toContain("9ccccccc (twin, exited)");
    expect(err!.candidates.map((a) => a.id)).toEqual(["9bbbbbbb", "9ccccccc"]);
  });
  it("a name shared by ended agents only is ambiguous", () => {
    expect(() => matchAgentRef(agents, "twin")).toThrow(/"twin" is the name of 2 agents/);
  });
  it("no match is NOT_FOUND; names in messages are escaped", () => {
    expect(() => matchAgentRef(agents, "nope")).toThrow(AgentNotFoundError);
    expect(() => matchAgentRef(agents, "\x1b]0;pwned\x07")).toThrow(/"\\x1b]0;pwned\\x07"/);
    const evil = [agent("aaaa1111", "\x1b[2Jx"), agent("aaaa2222", "y")];
    expect(() => matchAgentRef(evil, "aaaa")).toThrow(/aaaa1111 \(\\x1b\[2Jx, running\)/);
  });
  it("lists at most 8 candidates", () => {
    const many = Array.from({ length: 11 }, (_, i) => agent(`ab${String(i).padStart(6, "0")}`, `n${i}`));
    expect(() => matchAgentRef(many, "ab")).toThrow(/and 3 more/);
  });
});
