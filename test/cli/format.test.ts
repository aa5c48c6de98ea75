/** `paseo ls`'s table: which agents are terminals (TTY column) and why an agent is lost. */
import { describe, expect, it } from "vitest";
import { agentStatus, agentsTable, LOST_REASON_INLINE } from "../../src/cli/format.js";
import type { AgentInfo } from "../../src/protocol/rpc.js";

const pipe: AgentInfo = {
  id: "3kq7x2ab",
  name: "build",
  argv: ["make"],
  cwd: "/",
  pid: 41,
  state: "running",
  exitCode: null,
  signal: null,
  startedAt: new Date().toISOString(),
  endedAt: null,
  nextSeq: 1,
  bytes: 0,
  tty: false,
  cols: null,
  rows: null,
};
const term: AgentInfo = {
  ...pipe,
  id: "7zz2mq4c",
  name: "sh",
  argv: ["bash"],
  pid: 42,
  tty: true,
  cols: 100,
  rows: 30,
};

describe("agentsTable", () => {
  it("says which agents are terminals and their size; pipe agents show -", () => {
    const lines = agentsTable([pipe, term]).split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+PID\s+TTY\s+STARTED\s+COMMAND$/);
    expect(lines[1]).toMatch(/^3kq7x2ab\s+build\s+running\s+41\s+-\s+\d+s ago\s+make$/);
    expect(lines[2]).toMatch(/^7zz2mq4c\s+sh\s+running\s+42\s+100x30\s+\d+s ago\s+bash$/);
    expect(lines).toHaveLength(3);
  });

  it("a lost agent: a short reason in its STATUS, a long one (the daemon's sentences) under the table, escaped", () => {
    const long = "its host process (pid 9) and the program (pid 10) are gone without recording an exit\x1b[2J";
    const lost: AgentInfo = { ...term, state: "lost", pid: 10, reason: long };
    expect(agentStatus({ ...lost, reason: "host gone" })).toBe("lost(host gone)");
    expect(agentStatus(lost)).toBe("lost");
    expect(long.length).toBeGreaterThan(LOST_REASON_INLINE);
    const out = agentsTable([pipe, lost]);
    expect(out.split("\n")[2]).toMatch(/^7zz2mq4c\s+sh\s+lost\s+10\s+100x30\s/);
    expect(
      out.endsWith(
        "\n\n7zz2mq4c lost: its host process (pid 9) and the program (pid 10) are gone without recording an exit\\x1b[2J",
      ),
    ).toBe(true);
    expect(agentsTable([pipe, { ...lost, reason: "host gone" }])).not.toMatch(/lost:/);
  });
});
