/**
 * The CLI tells the truth (issue 12, "wrong answers"): links point at the relay the daemon really uses, exec and
 * logs -f pass on the remote status, a follower never ends silently, failures name the right hop, agents are found
 * by name or id prefix, errors speak in flags, and remote text cannot drive the terminal. Real relay, daemon and CLI
 * processes on 127.0.0.1.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startProcess,
  startRelayProcess,
  tmpHome,
  type DaemonProc,
} from "./harness.js";

afterAll(killAll);

/** A port that was free a moment ago (for options that cannot take 0 = ephemeral and be read back). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function relayOf(link: string): string {
  return (JSON.parse(Buffer.from(link.split("#offer=")[1]!, "base64url").toString()) as { relay: { endpoint: string } })
    .relay.endpoint;
}

async function pairLink(home: string): Promise<string> {
  const r = await runCli(["daemon", "pair", "--bearer", "--json", "--home", home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).link as string;
}

/** Agents may outlive their daemon: kill the ones a test leaves behind (their process groups). */
const agentPids: number[] = [];
afterAll(() => {
  for (const pid of agentPids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("links use the daemon's actual relay (item 3)", () => {
  it("pair while `daemon start --relay-port` runs points at that port, and the link works", async () => {
    const daemon = await startDaemonProcess({ args: ["--relay-port", "0"] });
    const started = relayOf(daemon.link!);
    expect(started).not.toBe("127.0.0.1:7431");
    const link = await pairLink(daemon.home);
    expect(relayOf(link)).toBe(started);
    const ls = await runCli(["ls", "--relay", link]);
    expect(ls.code, ls.stderr).toBe(0);
    await daemon.stop();
  });

  it("pair with the daemon stopped uses the saved --relay-port; with --no-relay it refuses to make a dead link", async () => {
    const port = await freePort();
    const daemon = await startDaemonProcess({ args: ["--relay-port", String(port)] });
    await daemon.stop();
    expect(relayOf(await pairLink(daemon.home))).toBe(`127.0.0.1:${port}`);

    const local = await startDaemonProcess({ relay: "none" });
    const r = await runCli(["daemon", "pair", "--home", local.home]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no relay \(it was started with --no-relay\).*\[NO_RELAY\]/);
    await local.stop();
  });
});

describe("exit statuses (items 4, 5)", () => {
  let daemon: DaemonProc;
  let home: string;
  beforeAll(async () => {
    daemon = await startDaemonProcess({ relay: "none" });
    home = daemon.home;
  });

  it("exec exits with the remote status and prints nothing extra", async () => {
    const five = await runCli(["exec", "--home", home, "--", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    expect([five.code, five.stdout, five.stderr]).toEqual([5, "out\n", "err\n"]);
    const ok = await runCli(["exec", "--home", home, "--", "true"]);
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, "", ""]);
    const json = await runCli(["exec", "--json", "--home", home, "--", "sh", "-c", "exit 5"]);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 5 });
    const killed = await runCli(["exec", "--home", home, "--", "sh", "-c", "kill -9 $$"]);
    expect(killed.code).toBe(137);
  });

  it("exec: timeout 124, not found 127 (in CLI wording), paseo's own failure 255", async () => {
    const slow = await runCli(["exec", "--exec-timeout", "1", "--home", home, "--", "sleep", "5"]);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toMatch(/killed after --exec-timeout 1 s/);
    const missing = await runCli(["exec", "--home", home, "--", "no-such-command-paseo"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/command not found.*\(or pass --shell\).*\[SPAWN_FAILED\]/);
    expect(missing.stderr).not.toMatch(/shell: true/);
    const noDaemon = await runCli(["exec", "--home", tmpHome(), "--", "true"]);
    expect(noDaemon.code).toBe(255);
    const usage = await runCli(["exec", "--exec-timeout", "100000", "--home", home, "--", "true"]);
    expect(usage.code).toBe(255);
    expect(usage.stderr).toMatch(/--exec-timeout/);
  });

  it("logs -f says how the agent ended and exits with its status", async () => {
    const run = await runCli([
      "run",
      "--home",
      home,
      "--name",
      "build",
      "--",
      "sh",
      "-c",
      "echo building; sleep 0.3; exit 3",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const follow = await runCli(["logs", "-f", run.stdout.trim(), "--home", home]);
    expect(follow.stdout).toBe("building\n");
    expect(follow.stderr).toBe("agent build exited with code 3\n");
    expect(follow.code).toBe(3);

    const server = (await runCli(["run", "--home", home, "--name", "server", "--", "sleep", "30"])).stdout.trim();
    const f = startProcess(["logs", "-f", server, "--home", home]);
    await new Promise((r) => setTimeout(r, 300));
    const stop = await runCli(["stop", server, "--home", home]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await f.exited).toBe(143);
    expect(f.stderr()).toBe("agent server was killed by SIGTERM\n");
  });

  const TICKER = ["sh", "-c", "i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo tick$i; sleep 0.1; done"];

  it("logs -f says so and exits 255 when the local daemon stops or dies mid-follow and does not come back", async () => {
    for (const how of ["stop", "kill9"] as const) {
      const d = await startDaemonProcess({ relay: "none" });
      const run = await runCli(["run", "--home", d.home, "--name", "ticker", "--", ...TICKER]);
      expect(run.code, run.stderr).toBe(0);
      const ls = await runCli(["ls", "--json", "--home", d.home]);
      agentPids.push((JSON.parse(ls.stdout) as { pid: number }[])[0]!.pid);
      const f = startProcess(["logs", "-f", run.stdout.trim(), "--reconnect-timeout", "1", "--home", d.home]);
      await f.waitFor(/tick3\n/);
      if (how === "stop") await d.stop();
      else await d.kill9();
      expect(await f.exited).toBe(255);
      expect(f.stderr()).toMatch(/waiting up to 1 s for it to start again/);
      expect(f.stderr()).toMatch(
        new RegExp(
          `the daemon with home ${d.home} went away: .*did not start again within 1 s.*paseo daemon start.*\\[DAEMON_OFFLINE\\]`,
        ),
      );
    }
  });

  it("logs -f resumes after the local daemon restarts: nothing lost or repeated, then the agent's status", async () => {
    const d = await startDaemonProcess({ relay: "none" });
    const run = await runCli(["run", "--home", d.home, "--name", "ticker", "--", ...TICKER]);
    const id = run.stdout.trim();
    const ls = await runCli(["ls", "--json", "--home", d.home]);
    agentPids.push((JSON.parse(ls.stdout) as { pid: number }[])[0]!.pid);
    const f = startProcess(["logs", "-f", id, "--home", d.home]);
    await f.waitFor(/tick3\n/);
    await d.stop();
    await f.waitFor(/waiting up to 30 s/);
    const again = await startDaemonProcess({ home: d.home, relay: "none" });
    await f.waitFor(/reconnected; the output resumes where it stopped/);
    await runCli(["stop", id, "--home", again.home]); // agents that outlive the daemon are stopped here; others already were
    expect(await f.exited).toBe(143);
    const lines = f.stdout().trim().split("\n");
    expect(lines).toEqual(lines.map((_, i) => `tick${i + 1}`));
    expect(f.stderr()).toMatch(/agent ticker was killed by SIGTERM/);
  });

  it("logs -f through a relay resumes after the daemon restarts: nothing lost or repeated", async () => {
    const relay = await startRelayProcess();
    const d = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const run = await runCli(["run", "--relay", d.link!, "--name", "ticker", "--", ...TICKER]);
    const id = run.stdout.trim();
    const ls = await runCli(["ls", "--json", "--relay", d.link!]);
    agentPids.push((JSON.parse(ls.stdout) as { pid: number }[])[0]!.pid);
    const f = startProcess(["logs", "-f", id, "--relay", d.link!]);
    await f.waitFor(/tick3\n/);
    await d.stop();
    await f.waitFor(/the daemon is shutting down; reconnecting for up to 30 s/);
    const again = await startDaemonProcess({ home: d.home, relay: `ws://${relay.endpoint}` });
    await f.waitFor(/reconnected; the output resumes where it stopped/, 15_000);
    await runCli(["stop", id, "--home", again.home]); // agents that outlive the daemon are stopped here; others already were
    expect(await f.exited).toBe(143);
    const lines = f.stdout().trim().split("\n");
    expect(lines).toEqual(lines.map((_, i) => `tick${i + 1}`));
    await again.stop();
    await relay.stop();
  });

  it("logs -f through a relay: a daemon shutdown is said at once, and the follower exits 255 when it does not come back", async () => {
    const relay = await startRelayProcess();
    const d = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const run = await runCli(["run", "--relay", d.link!, "--name", "ticker", "--", ...TICKER]);
    expect(run.code, run.stderr).toBe(0);
    const ls = await runCli(["ls", "--json", "--relay", d.link!]);
    agentPids.push((JSON.parse(ls.stdout) as { pid: number }[])[0]!.pid);
    const f = startProcess(["logs", "-f", run.stdout.trim(), "--reconnect-timeout", "1", "--relay", d.link!]);
    await f.waitFor(/tick3\n/);
    await d.stop();
    expect(await f.exited).toBe(255);
    expect(f.stderr()).toMatch(/the daemon is shutting down; reconnecting for up to 1 s/);
    expect(f.stderr()).toMatch(/gave up reconnecting after 1 s: daemon offline: .*\[DAEMON_OFFLINE\]/);
    await relay.stop();
  });
});

describe("failures name the right hop (item 6)", () => {
  it("a link to a stopped daemon's embedded relay says the daemon is not running and how to start it", async () => {
    const daemon = await startDaemonProcess({ args: ["--relay-port", "0"] });
    const link = daemon.link!;
    await daemon.stop();
    const r = await runCli(["ls", "--relay", link]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nothing is listening at 127\.0\.0\.1:\d+ on this machine.*daemon that made this link is not running.*`paseo daemon start`.*\[RELAY_UNREACHABLE\]/,
    );
    expect(r.stderr).not.toMatch(/check the address and your network/);
  });

  it("no local daemon: one sentence; a daemon killed without cleanup is reported the same way", async () => {
    const empty = tmpHome();
    const r = await runCli(["ls", "--home", empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `paseo: no daemon is running with home ${empty}: start one with \`paseo daemon start\`, or pass --relay <link|file> to reach another machine [DAEMON_OFFLINE]\n`,
    );
    const d = await startDaemonProcess({ relay: "none" });
    await d.kill9(); // leaves local-offer.json behind
    const stale = await runCli(["ls", "--home", d.home]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/no daemon is running with home .*\[DAEMON_OFFLINE\]/);
  });
});

describe("agent references, wording and escaping (items 7, 8, 9)", () => {
  let home: string;
  beforeAll(async () => {
    home = (await startDaemonProcess({ relay: "none" })).home;
  });

  it("send, stop and logs take a unique name or id prefix; ambiguity is a named error listing the candidates", async () => {
    const script = "process.stdin.on('data', d => console.log('got ' + String(d).trim()))";
    const a = (
      await runCli(["run", "--home", home, "--name", "chat", "--", process.execPath, "-e", script])
    ).stdout.trim();
    const send = await runCli(["send", "chat", "hello", "--home", home]);
    expect(send.code, send.stderr).toBe(0);
    const stop = await runCli(["stop", a.slice(0, 5), "--json", "--home", home]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ id: a, state: "killed" });
    const logs = await runCli(["logs", "chat", "--home", home]);
    expect([logs.code, logs.stdout]).toEqual([0, "got hello\n"]);

    const b = (await runCli(["run", "--home", home, "--name", "twin", "--", "true"])).stdout.trim();
    const c = (await runCli(["run", "--home", home, "--name", "twin", "--", "true"])).stdout.trim();
    // Both exit at once; wait until neither runs (no running "twin" to prefer), bounded.
    for (let i = 0; i < 50; i++) {
      const all = JSON.parse((await runCli(["ls", "-a", "--json", "--home", home])).stdout) as {
        id: string;
        state: string;
      }[];
      if (all.filter((x) => x.id === b || x.id === c).every((x) => x.state !== "running")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const amb = await runCli(["logs", "twin", "--home", home]);
    expect(amb.code).toBe(1);
    expect(amb.stderr).toMatch(/"twin" is the name of 2 agents: .*\[AGENT_AMBIGUOUS\]/);
    expect(amb.stderr).toContain(b);
    expect(amb.stderr).toContain(c);
  });

  it("remote names and commands are escaped in tables and messages; JSON keeps them exact", async () => {
    const evilName = "\x1b]0;pwned\x07\x1b[2Jevil\u202e";
    const run = await runCli([
      "run",
      "--home",
      home,
      "--name",
      evilName,
      "--",
      "sh",
      "-c",
      "sleep 30 # \x1b[31mred",
      "x",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("\\x1b]0;pwned\\x07\\x1b[2Jevil\\u202e");
    const ls = await runCli(["ls", "--home", home]);
    expect(ls.code).toBe(0);
    expect(/[\x00-\x08\x0b-\x1f\x7f\u202e]/.test(ls.stdout), "ls printed a raw control character").toBe(false);
    expect(ls.stdout).toContain("\\x1b]0;pwned\\x07\\x1b[2Jevil\\u202e");
    expect(ls.stdout).toContain("\\x1b[31mred");
    const json = await runCli(["ls", "--json", "--home", home]);
    expect((JSON.parse(json.stdout) as { name: string }[]).some((a) => a.name === evilName)).toBe(true);
    const stop = await runCli(["stop", evilName, "--home", home]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(/[\x00-\x08\x0b-\x1f\x7f\u202e]/.test(stop.stderr), "stop printed a raw control character").toBe(false);
    const missing = await runCli(["logs", "\x1b[2Jgone", "--home", home]);
    expect(missing.stderr).toMatch(/"\\x1b\[2Jgone".*\[NOT_FOUND\]/);
  });

  it("--grace is checked as a flag, not reported as the API's graceMs", async () => {
    const r = await runCli(["stop", "x", "--grace", "99999999", "--home", home]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--grace/);
    expect(r.stderr).not.toMatch(/graceMs/);
  });
});
