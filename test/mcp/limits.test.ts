/**
 * `paseo mcp` (issue 18) when things are not simple: --read-only serves and runs only the read tools; a daemon
 * that stops mid-session gives tool errors while the server keeps running, and the next call after its restart
 * works (through the relay, and for the local daemon whose offer a restart replaces); a 50 MB agent log is read in
 * bounded pages; and the SDK is loaded by `paseo mcp` only.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, killAll, startDaemonProcess, startRelayProcess, tmpHome } from "../e2e/harness.js";
import { closeAllMcp, startMcp, until } from "./helpers.js";

afterAll(async () => {
  await closeAllMcp();
  await killAll();
});

const READ_TOOLS = ["agent_output", "agents_list", "host_info", "hosts_list", "terminal_screen"];

async function relayDaemon() {
  const relay = await startRelayProcess();
  const home = tmpHome();
  const daemon = await startDaemonProcess({ home, relay: `ws://${relay.endpoint}` });
  const offerFile = join(home, "offer.txt");
  writeFileSync(offerFile, daemon.link!, { mode: 0o600 });
  return { relay, home, daemon, offerFile };
}

describe("paseo mcp: read-only, daemon restarts, big logs", () => {
  it("--read-only lists only the read tools and refuses the write tools by name", async () => {
    const { offerFile, home } = await relayDaemon();
    const rw = await startMcp(["--relay", offerFile]);
    const shell = await rw.call("agent_start", { argv: ["bash", "--norc", "-i"], tty: true, name: "sh" });
    expect(shell.isError, shell.text).toBe(false);

    const ro = await startMcp(["--home", home, "--read-only"]);
    const { tools } = await ro.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
    for (const [name, args] of [
      ["agent_start", { argv: ["touch", join(home, "written")] }],
      ["exec", { argv: ["touch", join(home, "written")] }],
      ["terminal_type", { agent: "sh", text: "touch written", keys: ["Enter"] }],
      ["agent_stop", { agent: "sh" }],
      ["agent_send", { agent: "sh", text: "x" }],
    ] as const) {
      const r = await ro.call(name, args);
      expect(r.isError, name).toBe(true);
      expect(r.text, name).toMatch(/^READ_ONLY: .*--read-only[\s\S]*Next: /);
    }
    expect(existsSync(join(home, "written"))).toBe(false);
    // The read tools work, a terminal's screen included (read as a watcher).
    expect((await ro.call("agents_list")).data.agents).toHaveLength(1);
    const screen = await ro.call("terminal_screen", { agent: "sh" });
    expect(screen.isError, screen.text).toBe(false);
    expect(ro.stderr()).toMatch(/serving local over stdio \(5 tools, read-only\)/);
  });

  it("daemon stopped mid-session: a tool error, the server keeps running, and works again after the restart", async () => {
    const { relay, home, daemon, offerFile } = await relayDaemon();
    const viaRelay = await startMcp(["--relay", offerFile]);
    const local = await startMcp(["--home", home]);
    expect((await viaRelay.call("host_info")).isError).toBe(false);
    expect((await local.call("host_info")).isError).toBe(false);

    await daemon.stop();
    for (const mcp of [viaRelay, local]) {
      const r = await mcp.call("agents_list");
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/^DAEMON_OFFLINE: .*paseo daemon start/);
      expect(mcp.transport.pid).not.toBeNull(); // still serving
      expect((await mcp.call("hosts_list")).data.hosts).toEqual([
        expect.objectContaining({ reachable: false, error: "DAEMON_OFFLINE", serverId: expect.any(String) }),
      ]);
    }

    const again = await startDaemonProcess({ home, relay: `ws://${relay.endpoint}` });
    const viaRelayInfo = await until(async () => {
      const r = await viaRelay.call("host_info");
      return r.isError ? undefined : r;
    }, "host_info through the relay after the restart");
    expect(viaRelayInfo.data.host).toBe("relay");
    // The local daemon's offer changed with the restart: the server read the new one.
    const localInfo = await local.call("agents_list");
    expect(localInfo.isError, localInfo.text).toBe(false);
    await again.stop();
  });

  it("a 50 MB agent log: bounded pages from the start, the middle and the end", async () => {
    const { offerFile } = await relayDaemon();
    const mcp = await startMcp(["--relay", offerFile]);
    const total = 50 * 1024 * 1024;
    // 50 MiB of x in lines of 99 (and a newline).
    const started = await mcp.call("agent_start", {
      command: `head -c ${total} /dev/zero | tr '\\0' x | fold -w 99`,
      name: "flood",
    });
    expect(started.isError, started.text).toBe(false);
    const agent = await until(
      async () => {
        const list = await mcp.call("agents_list", { all: true });
        const a = (list.data.agents as { name: string; state: string; bytes: number; nextSeq: number }[])[0]!;
        return a.state === "exited" ? a : undefined;
      },
      "the flood to finish",
      30_000,
    );
    expect(agent.bytes).toBe(total + Math.floor(total / 99)); // fold adds no newline after the last, short line

    const timings: Record<string, number> = {};
    const timed = async (what: string, args: Record<string, unknown>) => {
      const t0 = performance.now();
      const r = await mcp.call("agent_output", { agent: "flood", ...args });
      timings[what] = Math.round(performance.now() - t0);
      expect(r.isError, r.text).toBe(false);
      return r;
    };
    const first = await timed("first page (64 KiB)", { maxBytes: 65536 });
    expect(first.data.bytes).toBe(65536);
    expect(first.data.truncated).toBe(true);
    expect(first.text.length).toBeLessThan(66 * 1024);
    const next = first.data.next as { since: number; offset: number };
    const second = await timed("second page", { ...next, maxBytes: 65536 });
    expect(second.data.from).toEqual(next);
    expect(second.data.bytes).toBe(65536);
    const tail = await timed("last 5 lines", { lines: 5 });
    expect(tail.data.output).toBe(`${"x".repeat(99)}\n`.repeat(4) + "x".repeat(total % 99));
    const bigTail = await timed("last 10000 lines (capped at 64 KiB)", { lines: 10_000, maxBytes: 65536 });
    expect(bigTail.data.bytes).toBeLessThanOrEqual(65536);
    expect(bigTail.data.truncated).toBe(true);
    const end = await timed("from the last chunk", { since: agent.nextSeq - 1 });
    expect(end.data.bytes as number).toBeLessThanOrEqual(32 * 1024);
    // The last chunk may be bigger than a page: paging on from `next` reaches the log's end exactly.
    let page = end;
    for (let i = 0; page.data.truncated; i++) {
      expect(i).toBeLessThan(64);
      page = await mcp.call("agent_output", { agent: "flood", ...(page.data.next as object) });
    }
    expect(page.data.next).toEqual({ since: agent.nextSeq, offset: 0 });
    process.stderr.write(`agent_output on a 50 MB log (ms): ${JSON.stringify(timings)}\n`);
  }, 60_000);

  it("the MCP SDK and zod load for `paseo mcp` only: not for --help, ls or `mcp config`", () => {
    const dir = tmpHome();
    const trace = join(dir, "loaded.json");
    const preload = join(dir, "trace.cjs");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(trace)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const loaded = (args: string[]): string[] => {
      rmSync(trace, { force: true });
      try {
        execFileSync(process.execPath, ["--require", preload, CLI, ...args], {
          env: { ...process.env, PASEO_RELAY_OFFER: "", PASEO_HOME: dir },
          stdio: "pipe",
          timeout: 10_000,
        });
      } catch {
        // ls without a daemon fails: what it loaded is still recorded
      }
      return JSON.parse(readFileSync(trace, "utf8")) as string[];
    };
    const sdk = (files: string[]) => files.filter((f) => /node_modules\/(@modelcontextprotocol|zod)\//.test(f));
    expect(sdk(loaded(["--help"]))).toEqual([]);
    expect(sdk(loaded(["ls"]))).toEqual([]);
    expect(sdk(loaded(["mcp", "config", "--client", "claude-code"]))).toEqual([]);
    // …and `paseo mcp` does load them (from node_modules, not bundled); it exits when its stdin closes.
    expect(sdk(loaded(["mcp"])).length).toBeGreaterThan(0);
  });

  it("stdout carries JSON-RPC only, logs go to stderr, and the server exits when its stdin closes", () => {
    const home = tmpHome(); // no daemon there: the call fails, and says how to start one
    const requests = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "agents_list", arguments: {} } },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "no_such_tool", arguments: {} } },
    ];
    const out = execFileSync(process.execPath, [CLI, "mcp", "--home", home], {
      input: `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`,
      encoding: "utf8",
      env: { ...process.env, PASEO_RELAY_OFFER: "" },
      timeout: 10_000,
    });
    const lines = out
      .trimEnd()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            jsonrpc: string;
            id: number;
            result?: { isError?: boolean; content: { text: string }[] };
            error?: { message: string };
          },
      )
      .sort((a, b) => a.id - b.id); // answers may come in any order; every call that was sent gets one
    expect(lines.every((l) => l.jsonrpc === "2.0")).toBe(true);
    expect(lines.map((l) => l.id)).toEqual([1, 2, 3]);
    expect(lines[1]!.result!.isError).toBe(true);
    expect(lines[1]!.result!.content[0]!.text).toMatch(
      /^DAEMON_OFFLINE: no daemon is running with home .*paseo daemon start/,
    );
    expect(lines[2]!.error!.message).toMatch(/no tool named no_such_tool/);
  });

  it("mcp config prints the registration, with a host's flags and never a link", () => {
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [CLI, "mcp", "config", ...args], {
        encoding: "utf8",
        env: { ...process.env, PASEO_RELAY_OFFER: "" },
      });
    expect(run("--client", "claude-code")).toBe("claude mcp add paseo -- paseo mcp\n");
    expect(run("--client", "claude-code", "--read-only")).toBe("claude mcp add paseo -- paseo mcp --read-only\n");
    const cursor = JSON.parse(run("--client", "cursor", "--home", "/tmp/some home"));
    expect(cursor).toEqual({ mcpServers: { paseo: { command: "paseo", args: ["mcp", "--home", "/tmp/some home"] } } });
    const opencode = JSON.parse(run("--client", "opencode"));
    expect(opencode.mcp.paseo).toEqual({ type: "local", command: ["paseo", "mcp"], enabled: true });
    expect(() =>
      run("--client", "claude-desktop", "--relay", `https://relay.example/#offer=eyJ2IjozfQ${"A".repeat(300)}`),
    ).toThrow(/SECRET_IN_CONFIG/);
  });
});
