/** Pure CLI helpers: API wording → flags, how an agent ended → message + status, which hop a refused relay names. */
import { describe, expect, it } from "vitest";
import { cliWording } from "../../src/cli/cli-errors.js";
import { describeEnd } from "../../src/cli/follow.js";
import { RelayUnreachableError } from "../../src/client/errors.js";
import { isLoopbackEndpoint } from "../../src/protocol/relay-url.js";
import type { AgentInfo } from "../../src/protocol/rpc.js";

describe("cliWording", () => {
  it("translates the daemon's API wording into the CLI's flags", () => {
    expect(
      cliWording(
        `agents.logs: no agent with id "x" on this daemon; check the id (ended agents are listed with all: true)`,
      ),
    ).toBe(
      'agents.logs: no agent with id "x" on this daemon; check the id (ended agents are listed with `paseo ls -a`)',
    );
    expect(
      cliWording("command not found; check the name, or the PATH of the daemon's environment (or pass shell: true)"),
    ).toBe("command not found; check the name, or the PATH of the daemon's environment (or pass --shell)");
    expect(cliWording("graceMs must be an integer between 0 and 600000")).toBe(
      "--grace must be an integer between 0 and 600000",
    );
    expect(cliWording('agents.run: "name" must be a non-empty string (≤ 64 chars)')).toBe(
      "agents.run: --name must be a non-empty string (≤ 64 chars)",
    );
    expect(cliWording("cwd contains a NUL byte")).toBe("--cwd contains a NUL byte");
    expect(cliWording("a message about the shell and all things true")).toBe(
      "a message about the shell and all things true",
    );
  });
});

describe("describeEnd", () => {
  const base: AgentInfo = {
    id: "3kq7x2ab",
    name: "build",
    argv: [],
    cwd: "/",
    pid: null,
    state: "exited",
    exitCode: 3,
    signal: null,
    startedAt: "",
    endedAt: "",
    nextSeq: 1,
    bytes: 0,
  };
  it("exited → its code", () => {
    expect(describeEnd(base)).toEqual({ message: "agent build exited with code 3", status: 3 });
    expect(describeEnd({ ...base, exitCode: 0 }).status).toBe(0);
  });
  it("killed by a signal → 128 + n", () => {
    expect(describeEnd({ ...base, state: "killed", exitCode: null, signal: "SIGKILL" })).toEqual({
      message: "agent build was killed by SIGKILL",
      status: 137,
    });
    expect(
      describeEnd({ ...base, state: "killed", exitCode: null, signal: "SIGTERM", reason: "daemon-stopped" }).message,
    ).toBe("agent build was killed by SIGTERM when the daemon stopped");
  });
  it("lost, failed or still running → 255", () => {
    expect(describeEnd({ ...base, state: "killed", exitCode: null, reason: "daemon-stopped" })).toEqual({
      message: "agent build was lost: the daemon stopped while it ran, so its exit status is unknown",
      status: 255,
    });
    expect(describeEnd({ ...base, state: "failed", exitCode: null }).status).toBe(255);
    expect(describeEnd({ ...base, state: "running", exitCode: null }).status).toBe(255);
  });
  it("escapes the remote name", () => {
    expect(describeEnd({ ...base, name: "\x1b]0;x\x07" }).message).toBe("agent \\x1b]0;x\\x07 exited with code 3");
  });
});

describe("RelayUnreachableError", () => {
  it("on loopback names the stopped daemon; elsewhere the network", () => {
    expect(isLoopbackEndpoint("127.0.0.1:7431")).toBe(true);
    expect(isLoopbackEndpoint("localhost:1")).toBe(true);
    expect(isLoopbackEndpoint("[::1]:1")).toBe(true);
    expect(isLoopbackEndpoint("relay.example.com:443")).toBe(false);
    expect(isLoopbackEndpoint("10.0.0.1:443")).toBe(false);
    expect(new RelayUnreachableError("ws://127.0.0.1:17999/x", "close 1006", "127.0.0.1:17999").message).toMatch(
      /^nothing is listening at 127\.0\.0\.1:17999 on this machine \(close 1006\): the daemon that made this link is not running/,
    );
    expect(
      new RelayUnreachableError("wss://relay.example.com/x", "close 1006", "relay.example.com:443").message,
    ).toMatch(/check the address and your network/);
  });
});
