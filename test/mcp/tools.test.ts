/**
 * `paseo mcp` (issue 18) driven by the MCP SDK's own client over stdio, against a real relay and daemon on
 * 127.0.0.1 reached with a pairing link in a file (--relay <file>): tools/list, agent_start + agent_output paging,
 * typing into a bash terminal agent and reading its screen (and the writer lane held by someone else), exec exit
 * codes and truncation, and no secret in any reply or log line.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaemonClient } from "../../src/client/daemon-client.js";
import { killAll, startDaemonProcess, startRelayProcess, tmpHome, type DaemonProc } from "../e2e/harness.js";
import { closeAllMcp, startMcp, until, type McpProc } from "./helpers.js";

let daemon: DaemonProc;
let offerFile: string;
let mcp: McpProc;

beforeAll(async () => {
  const relay = await startRelayProcess();
  daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  offerFile = join(tmpHome(), "offer.txt");
  writeFileSync(offerFile, daemon.link!, { mode: 0o600 });
  chmodSync(offerFile, 0o600);
  mcp = await startMcp(["--relay", offerFile]);
}, 30_000);

afterAll(async () => {
  await closeAllMcp();
  await killAll();
});

describe("paseo mcp over stdio, through a real relay", () => {
  it("lists every tool with an input schema and a description", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "agent_output",
        "agent_send",
        "agent_start",
        "agent_stop",
        "agents_list",
        "exec",
        "host_info",
        "hosts_list",
        "terminal_screen",
        "terminal_type",
      ].sort(),
    );
    for (const t of tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(t.description!.length).toBeGreaterThan(20);
    }
    const start = tools.find((t) => t.name === "agent_start")!;
    expect(Object.keys(start.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["argv", "command", "name", "cwd", "tty", "cols", "rows", "host"]),
    );
    expect(tools.find((t) => t.name === "agents_list")!.annotations?.readOnlyHint).toBe(true);
    const hosts = await mcp.call("hosts_list");
    expect(hosts.data.hosts).toEqual([
      expect.objectContaining({ name: "relay", kind: "relay", reachable: true, hostname: expect.any(String) }),
    ]);
    const info = await mcp.call("host_info");
    expect(info.isError).toBe(false);
    expect(info.data).toMatchObject({ host: "relay", protocolVersion: 1 });
  });

  it("agent_start, then agent_output pages through the output exactly and tails the last lines", async () => {
    const started = await mcp.call("agent_start", {
      command: 'i=1; while [ $i -le 3000 ]; do echo "line $i"; i=$((i+1)); done',
      name: "counter",
    });
    expect(started.isError, started.text).toBe(false);
    const id = (started.data.agent as { id: string }).id;
    await until(async () => {
      const list = await mcp.call("agents_list", { all: true });
      return (list.data.agents as { id: string; state: string }[]).find((a) => a.id === id)?.state === "exited";
    }, "the counter to exit");
    const expected = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}\n`).join("");

    let text = "";
    let next: { since: number; offset: number } = { since: 1, offset: 0 };
    let pages = 0;
    for (;;) {
      const page = await mcp.call("agent_output", { agent: "counter", ...next, maxBytes: 4096 });
      expect(page.isError, page.text).toBe(false);
      expect(page.data.bytes as number).toBeLessThanOrEqual(4096);
      text += page.data.output as string;
      pages++;
      next = page.data.next as typeof next;
      if (!page.data.truncated) break;
      expect(pages).toBeLessThan(100);
    }
    expect(text).toBe(expected); // every byte once, in order, across chunk-splitting pages
    expect(pages).toBeGreaterThan(5);

    const tail = await mcp.call("agent_output", { agent: id, lines: 3 });
    expect(tail.data.output).toBe("line 2998\nline 2999\nline 3000\n");
    expect(tail.text).toMatch(/exited/);
    // Nothing new since the end: an empty page at the same position.
    const none = await mcp.call("agent_output", { agent: id, ...next });
    expect(none.data).toMatchObject({ bytes: 0, truncated: false, next });
    const past = await mcp.call("agent_output", { agent: id, since: next.since + 1 });
    expect(past.text).toMatch(/^BAD_PARAMS: "since" is \d+, past the end/);
  });

  it("agents_list stays bounded: a huge command line is cut in the summary", async () => {
    const huge = Array.from({ length: 8 }, () => "x".repeat(60_000));
    const started = await mcp.call("agent_start", { argv: ["sh", "-c", "exit 0", ...huge], name: "huge-argv" });
    expect(started.isError, started.text).toBe(false);
    expect(started.text.length).toBeLessThan(2048);
    const list = await mcp.call("agents_list", { all: true });
    expect(list.text.length).toBeLessThan(64 * 1024);
    const entry = (list.data.agents as { name: string; command: string }[]).find((a) => a.name === "huge-argv")!;
    expect(entry.command).toMatch(/^sh -c exit 0 x+…$/);
  });

  it("agent_output with waitMs waits for output not written yet, and for the agent's end", async () => {
    const started = await mcp.call("agent_start", { command: "sleep 0.5; echo late; sleep 0.5; echo later" });
    const id = (started.data.agent as { id: string }).id;
    const first = await mcp.call("agent_output", { agent: id, waitMs: 20_000 });
    expect(first.data.output).toBe("late\n"); // returned when "late" came, not at the deadline or the end
    const second = await mcp.call("agent_output", { agent: id, ...(first.data.next as object), waitMs: 20_000 });
    expect(second.data.output).toBe("later\n");
    const end = await mcp.call("agent_output", { agent: id, ...(second.data.next as object), waitMs: 20_000 });
    expect(end.data).toMatchObject({ output: "", agent: { state: "exited", exitCode: 0 } });
    const both = await mcp.call("agent_output", { agent: id, lines: 1, waitMs: 10 });
    expect(both.text).toMatch(/^BAD_PARAMS: .*not both/);
  });

  it("agent_send writes to a pipe agent's stdin; agent_stop ends it", async () => {
    const started = await mcp.call("agent_start", { argv: ["cat"], name: "echoer" });
    const id = (started.data.agent as { id: string }).id;
    expect((await mcp.call("agent_send", { agent: id, text: "hello from mcp" })).data).toEqual({ bytes: 15 });
    await until(async () => {
      const out = await mcp.call("agent_output", { agent: id });
      return out.data.output === "hello from mcp\n";
    }, "the echo");
    const stopped = await mcp.call("agent_stop", { agent: id, graceMs: 1000 });
    expect(stopped.data.agent).toMatchObject({ state: "killed", signal: "SIGTERM" });
    const again = await mcp.call("agent_send", { agent: id, text: "x" });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/^NOT_RUNNING: /);
    expect(again.text).toMatch(/\nNext: /);
  });

  it("terminal_type into bash, terminal_screen shows the result; a lane held by another client is NOT_WRITER", async () => {
    const started = await mcp.call("agent_start", {
      argv: ["bash", "--norc", "--noprofile", "-i"],
      env: { PS1: "mcp$ " },
      name: "shell",
      tty: true,
      cols: 60,
      rows: 12,
    });
    expect(started.isError, started.text).toBe(false);
    const id = (started.data.agent as { id: string }).id;
    await until(async () => (await mcp.call("terminal_screen", { agent: id })).text.includes("mcp$"), "the prompt");

    const typed = await mcp.call("terminal_type", { agent: id, text: "echo hello-$((6*7))", keys: ["Enter"] });
    expect(typed.isError, typed.text).toBe(false);
    const screen = await until(async () => {
      const s = await mcp.call("terminal_screen", { agent: id });
      return (s.data.screen as string).includes("\nhello-42") ? s : undefined;
    }, "hello-42 on the screen");
    expect(screen.data).toMatchObject({ cols: 60, rows: 12, alternate: false });
    expect(screen.text).not.toMatch(/\x1b/); // plain text, no escape sequences

    // Ctrl-C is a named key: it interrupts the foreground program (sleep), and the prompt comes back.
    await mcp.call("terminal_type", { agent: id, text: "sleep 30; echo not-interrupted", keys: ["Enter"] });
    const after = await mcp.call("terminal_type", { agent: id, keys: ["Ctrl-C"], screenAfterMs: 300 });
    expect(after.isError, after.text).toBe(false);
    await until(async () => {
      const s = await mcp.call("terminal_screen", { agent: id });
      return /\^C\s*\nmcp\$\s*$/.test(s.data.screen as string);
    }, "the prompt after ^C");

    // A person attached for control holds the writer lane: nothing is typed, and the error says what to do.
    const person = new DaemonClient({ offer: daemon.link! });
    const term = await person.attach(id);
    expect(term.lane).toBe("writer");
    const refused = await mcp.call("terminal_type", { agent: id, text: "echo typed-anyway", keys: ["Enter"] });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^NOT_WRITER: .*nothing was typed[\s\S]*Next: .*take: true/);
    const taken = await mcp.call("terminal_type", {
      agent: id,
      text: "echo typed-anyway",
      keys: ["Enter"],
      take: true,
    });
    expect(taken.isError, taken.text).toBe(false);
    await until(async () => term.lane === "watcher", "the person's lane taken");
    await until(
      async () => ((await mcp.call("terminal_screen", { agent: id })).data.screen as string).includes("\ntyped-anyway"),
      "typed-anyway on the screen",
    );
    await term.detach();
    person.close();

    const bad = await mcp.call("terminal_type", { agent: id, keys: ["Ctrl-1"] });
    expect(bad.text).toMatch(/^BAD_KEY: /);
    const pipe = await mcp.call("terminal_screen", { agent: "counter" });
    expect(pipe.text).toMatch(/^NOT_A_TERMINAL: .*\nNext: .*agent_output/);
    await mcp.call("agent_stop", { agent: id, graceMs: 500 });
    // Ended: its last screen can still be read; typing says it has ended.
    const last = await mcp.call("terminal_screen", { agent: id });
    expect(last.data.screen as string).toContain("typed-anyway");
    expect(last.text).toMatch(/\(shell\) killed/);
    const late = await mcp.call("terminal_type", { agent: id, keys: ["Enter"] });
    expect(late.text).toMatch(/^NOT_RUNNING: .*has ended \(killed\): nothing was typed/);
  });

  it("exec: exit codes, stdout and stderr, and long output cut with a marker", async () => {
    const ok = await mcp.call("exec", { argv: ["sh", "-c", "echo out; echo err >&2; exit 3"] });
    expect(ok.isError).toBe(false);
    expect(ok.data).toMatchObject({ exitCode: 3, signal: null, stdout: "out\n", stderr: "err\n", truncated: false });
    expect(ok.text).toMatch(/^exit code 3 /);
    const zero = await mcp.call("exec", { command: "true" });
    expect(zero.data.exitCode).toBe(0);
    const big = await mcp.call("exec", { command: "head -c 200000 /dev/zero | tr '\\0' a; echo END" });
    expect(big.data.truncated).toBe(true);
    const stdout = big.data.stdout as string;
    expect(stdout.length).toBeLessThan(26 * 1024);
    expect(stdout).toMatch(/^a+\n\[… paseo: \d+ bytes of stdout omitted …\]\na+END\n$/);
    const timeout = await mcp.call("exec", { command: "sleep 5", timeoutSec: 1 });
    expect(timeout.data).toMatchObject({ timedOut: true, exitCode: null });
    const missing = await mcp.call("exec", { argv: ["/no/such/program"] });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/^SPAWN_FAILED: /);
    const both = await mcp.call("exec", { argv: ["true"], command: "true" });
    expect(both.text).toMatch(/^BAD_PARAMS: .*not both/);
    const unknown = await mcp.call("exec", { argv: ["true"], bogus: 1 });
    expect(unknown.text).toMatch(/^BAD_PARAMS: /);
  });

  it("never puts the pairing link or its secret in a reply or a log line", async () => {
    const failures = await mcp.call("agent_output", { agent: "no-such-agent" });
    expect(failures.text).toMatch(/^NOT_FOUND: [\s\S]*Next: .*agents_list/);
    const secret = daemon.link!.split("#offer=")[1]!;
    const everything = mcp.replies.join("\n") + mcp.stderr();
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain("#offer=");
    expect(mcp.stderr()).toMatch(/paseo mcp: serving relay over stdio \(10 tools\)/);
  });
});
