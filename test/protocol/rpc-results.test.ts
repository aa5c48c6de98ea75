/** Client-side result validation (src/protocol/rpc-results.ts): good shapes pass through, bad ones are RpcProtocolError. */
import { describe, expect, it } from "vitest";
import { validateResult } from "../../src/protocol/rpc-results.js";
import { RpcProtocolError, type AgentInfo, type ServerInfo } from "../../src/protocol/rpc.js";

const agent: AgentInfo = {
  id: "a1b2c3",
  name: "build",
  argv: ["make"],
  cwd: "/tmp",
  pid: 42,
  state: "running",
  exitCode: null,
  signal: null,
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: null,
  nextSeq: 1,
  bytes: 0,
  tty: false,
  cols: null,
  rows: null,
};
const server: ServerInfo = {
  serverId: "s",
  fingerprint: "f",
  hostname: "h",
  platform: "linux",
  arch: "x64",
  paseoVersion: "1.0.0",
  protocolVersion: 1,
  capabilities: ["exec"],
  metrics: { cpuPercent: 1, memUsed: 1, memTotal: 2, diskUsed: null, diskTotal: null, load: [0, 0, 0], uptimeSec: 1 },
  time: "2026-01-01T00:00:00.000Z",
  inputEnabled: true,
};

describe("validateResult", () => {
  it("ServerInfo.inputEnabled: a boolean, or absent (an older daemon)", () => {
    const { inputEnabled: _, ...older } = server;
    expect(validateResult("server.info", older)).toBe(older);
    expect(() => validateResult("server.info", { ...server, inputEnabled: "no" })).toThrow(/inputEnabled/);
  });

  it("passes every well-formed result through unchanged (extra fields from a newer daemon allowed)", () => {
    const withExtra = { ...agent, futureField: 1, reason: "host gone" };
    expect(validateResult("agents.get", withExtra)).toBe(withExtra);
    expect(
      validateResult("agents.list", [agent, { ...agent, state: "exited", exitCode: 0, tty: true, cols: 80, rows: 24 }]),
    ).toHaveLength(2);
    expect(validateResult("server.info", server)).toBe(server);
    expect(validateResult("ping", {})).toEqual({});
    expect(validateResult("agents.input", { bytes: 3 })).toEqual({ bytes: 3 });
    expect(validateResult("terminal.take", { lane: "writer", writer: true })).toEqual({ lane: "writer", writer: true });
    const exec = {
      exitCode: null,
      signal: "SIGKILL",
      stdoutB64: "",
      stderrB64: "eA",
      truncated: false,
      timedOut: true,
      durationMs: 12,
    };
    expect(validateResult("exec", exec)).toBe(exec);
    const attach = {
      lane: "watcher",
      writer: true,
      agent,
      screen: { seq: 5, cols: 80, rows: 24, data: "x" },
      fromSeq: 5,
    };
    expect(validateResult("terminal.attach", attach)).toBe(attach);
    expect(validateResult("terminal.attach", { ...attach, screen: null })).toBeTruthy();
  });

  it("refuses a malformed result with RpcProtocolError naming the method and the field", () => {
    const cases: [Parameters<typeof validateResult>[0], unknown, RegExp][] = [
      ["agents.get", null, /agents\.get result is malformed: result must be an object/],
      ["agents.get", { ...agent, pid: "42" }, /result\.pid must be an integer or null/],
      ["agents.get", { ...agent, state: "zombie" }, /result\.state must be one of/],
      ["agents.list", { agents: [] }, /result must be an array/],
      ["agents.list", [agent, { ...agent, argv: [1] }], /result\[1\]\.argv must be an array of strings/],
      ["server.info", { ...server, capabilities: "exec" }, /result\.capabilities/],
      ["server.info", { ...server, metrics: null }, /result\.metrics must be an object/],
      ["agents.input", { bytes: 1.5 }, /result\.bytes must be an integer/],
      [
        "exec",
        { exitCode: 0, signal: null, stdoutB64: "", stderrB64: "", truncated: false, timedOut: false },
        /result\.durationMs must be a number/,
      ],
      [
        "terminal.attach",
        { lane: "writer", writer: true, agent: {}, screen: null, fromSeq: 1 },
        /result\.agent\.id must be a string/,
      ],
      ["terminal.release", { lane: "owner", writer: false }, /result\.lane must be one of writer, watcher/],
      ["ping", [], /result must be an object/],
    ];
    for (const [method, result, message] of cases) {
      let thrown: unknown;
      try {
        validateResult(method, result);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, method).toBeInstanceOf(RpcProtocolError);
      expect((thrown as RpcProtocolError).code).toBe("RPC_PROTOCOL");
      expect((thrown as Error).message).toMatch(message);
    }
  });
});
