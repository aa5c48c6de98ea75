/**
 * Agents outlive the daemon (issue 14): real `paseo daemon start` processes (local only, 127.0.0.1), real agents in
 * their host processes. kill -9 and `daemon stop` leave agents running and the next start re-adopts them with no
 * lost or repeated output; `daemon stop --kill-agents` ends them; an agent whose host vanished is `lost`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DaemonClient } from "../../src/index.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import type { AgentInfo } from "../../src/protocol/rpc.js";
import { hostPidsUnder } from "../setup/agent-procs.js";
import { killAll, runCli, sleep, startDaemonProcess, startProcess, tmpHome } from "./harness.js";

afterAll(killAll);

const clients: DaemonClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});

async function localClient(home: string): Promise<DaemonClient> {
  const offer = await readLocalOffer(home);
  if (!offer) throw new Error("no local offer");
  const c = new DaemonClient({ offer, connectTimeoutMs: 5000, requestTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function lsJson(home: string): Promise<AgentInfo[]> {
  const r = await runCli(["ls", "-a", "--json", "--home", home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AgentInfo[];
}

/** Prints "c 1" … "c N" every `ms`, then exits 0. */
const counter = (n: number, ms: number): string[] => [
  process.execPath,
  "-e",
  `let i=0;const t=setInterval(()=>{console.log("c "+(++i));if(i>=${n}){clearInterval(t)}},${ms})`,
];
const counted = (text: string): string[] => text.split(/\r?\n/).filter((l) => l.startsWith("c "));
const oneToN = (n: number): string[] => Array.from({ length: n }, (_, i) => `c ${i + 1}`);

describe("agents outlive the daemon", () => {
  it("kill -9 of the daemon while a terminal agent counts: same pid after restart, every line exactly once", async () => {
    const home = tmpHome();
    let daemon = await startDaemonProcess({ home, relay: "none" });
    let c = await localClient(home);
    // Counts every 8 ms until a key arrives (raw mode: no echo), so it is surely still running after the restart.
    const script = `process.stdin.setRawMode(true); let i = 0; const t = setInterval(() => console.log("c " + ++i), 8);
      process.stdin.on("data", () => { clearInterval(t); console.log("END " + i); process.exit(0); });`;
    const a = await c.runAgent({
      argv: [process.execPath, "-e", script],
      name: "counter",
      tty: true,
      cols: 100,
      rows: 30,
    });
    expect(a).toMatchObject({ tty: true, cols: 100, rows: 30 });
    await until(async () => {
      let t = "";
      for await (const ch of c.logs(a.id)) t += Buffer.from(ch.data).toString();
      return t.includes("c 40\r\n");
    }, "c 40");
    await daemon.kill9();
    await sleep(300); // the agent keeps counting into its log while no daemon is there
    daemon = await startDaemonProcess({ home, relay: "none" });
    c = await localClient(home);
    const again = await c.getAgent(a.id);
    expect(again).toMatchObject({ state: "running", pid: a.pid, tty: true, cols: 100, rows: 30 });
    await until(async () => (await c.getAgent(a.id)).nextSeq > again.nextSeq + 5, "more output through the new daemon");
    await c.sendInput(a.id, "q");
    let text = "";
    for await (const ch of c.logs(a.id, { follow: true })) text += Buffer.from(ch.data).toString();
    const n = Number(/END (\d+)\r\n/.exec(text)?.[1]);
    expect(n).toBeGreaterThan(40);
    expect(counted(text)).toEqual(oneToN(n));
    expect(await c.getAgent(a.id)).toMatchObject({ state: "exited", exitCode: 0 });
    await daemon.stop();
  }, 60_000);

  it("`daemon stop` then `daemon start`: ls shows the agents still running and logs -f continues", async () => {
    const home = tmpHome();
    let daemon = await startDaemonProcess({ home, relay: "none" });
    const run = await runCli(["run", "--home", home, "--name", "ticker", "--", ...counter(100_000, 20)]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const c = await localClient(home);
    const term = await c.runAgent({ argv: ["bash", "--norc", "-i"], name: "shell", tty: true });
    const before = await lsJson(home);

    const stop = await runCli(["daemon", "stop", "--home", home]);
    expect(stop.code, stop.stderr).toBe(0);
    await daemon.exited;
    for (const a of before) expect(alive(a.pid!), `${a.name} survives the daemon`).toBe(true);

    daemon = await startDaemonProcess({ home, relay: "none" });
    const ls = await runCli(["ls", "--home", home]);
    expect(ls.stdout).toMatch(/ticker\s+running/);
    expect(ls.stdout).toMatch(/shell\s+running/);
    const after = await lsJson(home);
    expect(after.map((a) => [a.id, a.state, a.pid]).sort()).toEqual(before.map((a) => [a.id, "running", a.pid]).sort());

    // logs -f from the start: history from before the restart, then live lines, each once, ending at the stop.
    const follow = startProcess(["logs", "-f", id, "--home", home]);
    const seen = Number((await follow.waitFor(/c (\d+)\n/))[1]);
    await follow.waitFor(new RegExp(`c ${seen + 10}\\n`));
    const c2 = await localClient(home);
    await c2.stopAgent(id);
    // logs -f exits with the agent's status (README "Exit status"): stopped by SIGTERM → 128 + 15.
    expect(await follow.exited).toBe(143);
    const lines = counted(follow.stdout());
    expect(lines).toEqual(oneToN(lines.length));
    expect(lines.length).toBeGreaterThan(seen + 10);
    // The terminal agent is driveable through the new daemon.
    await c2.sendInput(term.id, new TextEncoder().encode("echo re-adopted-$((6*7))\r"));
    await until(async () => {
      let t = "";
      for await (const ch of c2.logs(term.id)) t += Buffer.from(ch.data).toString();
      return t.includes("re-adopted-42");
    }, "the shell's answer");
    await c2.stopAgent(term.id);
    await daemon.stop();
  }, 60_000);

  it("`daemon stop --kill-agents` ends them (also with no daemon running); their hosts exit", async () => {
    const home = tmpHome();
    let daemon = await startDaemonProcess({ home, relay: "none" });
    const c = await localClient(home);
    const a = await c.runAgent({ argv: [process.execPath, "-e", "setInterval(() => {}, 1000)"], name: "pipe" });
    const t = await c.runAgent({ argv: ["bash", "--norc"], name: "term", tty: true });
    expect(hostPidsUnder(home)).toHaveLength(2);
    const stop = await runCli(["daemon", "stop", "--kill-agents", "--home", home], { timeoutMs: 30_000 });
    expect(stop.code, stop.stderr).toBe(0);
    await daemon.exited;
    expect(alive(a.pid!)).toBe(false);
    expect(alive(t.pid!)).toBe(false);
    await until(() => hostPidsUnder(home).length === 0, "the hosts to exit");

    daemon = await startDaemonProcess({ home, relay: "none" });
    const all = await lsJson(home);
    for (const x of all) expect(x).toMatchObject({ state: "killed", reason: "daemon-stopped" });
    // With no daemon: the CLI ends the agents itself.
    const c2 = await localClient(home);
    const b = await c2.runAgent({ argv: [process.execPath, "-e", "setInterval(() => {}, 1000)"], name: "left" });
    expect((await runCli(["daemon", "stop", "--home", home])).code).toBe(0);
    await daemon.exited;
    expect(alive(b.pid!)).toBe(true);
    const offline = await runCli(["daemon", "stop", "--kill-agents", "--home", home], { timeoutMs: 30_000 });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stderr + offline.stdout).toMatch(/ended 1 running agent/);
    expect(alive(b.pid!)).toBe(false);
    await until(() => hostPidsUnder(home).length === 0, "the last host to exit");
  }, 60_000);

  it("an agent whose host was SIGKILLed together with its program is `lost`, with a reason, after the next start", async () => {
    const home = tmpHome();
    let daemon = await startDaemonProcess({ home, relay: "none" });
    const c = await localClient(home);
    const a = await c.runAgent({
      argv: [process.execPath, "-e", "console.log('up'); setInterval(() => {}, 1000)"],
      name: "victim",
    });
    await until(async () => (await c.getAgent(a.id)).bytes > 0, "up");
    await daemon.stop();
    const hostPid = JSON.parse(readFileSync(join(home, "agents", a.id, "meta.json"), "utf8")).host.pid as number;
    process.kill(hostPid, "SIGKILL");
    process.kill(-a.pid!, "SIGKILL");
    await until(() => !alive(hostPid) && !alive(a.pid!), "host and program to die", 5000);

    daemon = await startDaemonProcess({ home, relay: "none" });
    const [lost] = await lsJson(home);
    expect(lost).toMatchObject({ id: a.id, state: "lost", exitCode: null });
    expect(lost!.reason).toMatch(/host process .* gone/);
    const ls = await runCli(["ls", "--home", home]);
    expect(ls.stdout).not.toMatch(/victim/); // never shown as running
    const logs = await runCli(["logs", a.id, "--home", home]);
    expect(logs.stdout).toBe("up\n");
  }, 60_000);
});
