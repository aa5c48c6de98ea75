/**
 * `paseo attach` driven like a user would: the CLI runs in a real PTY (sh under @lydell/node-pty), attaches to real
 * terminal agents on a real daemon process, and the test types keys and reads the screen. Covers: typing into
 * bash, resize → SIGWINCH in the program, Ctrl-C to the foreground program, detach keys with the local terminal
 * restored (stty), a full-screen program's screen restored on re-attach, writer/watcher/--take/--read-only, the
 * agent's exit code, the non-TTY refusal, and resume through a relay restart.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESTORE_MODES } from "../../src/cli/terminal/raw-terminal.js";
import { killAll, runCli, startDaemonProcess, startRelayProcess, type DaemonProc } from "./harness.js";
import { killAllPtys, shellPty, type Pty } from "./pty.js";

let daemon: DaemonProc;
const agents: string[] = [];

beforeAll(async () => {
  daemon = await startDaemonProcess({ relay: "none" });
});
afterAll(async () => {
  killAllPtys();
  // Agents outlive daemons: stop every one still running on this test's daemon, plus the ones started elsewhere.
  const running = await runCli(["ls", "--json", "--home", daemon.home]);
  const ids = new Set([...agents, ...(JSON.parse(running.stdout || "[]") as { id: string }[]).map((a) => a.id)]);
  for (const id of ids) await runCli(["stop", id, "--grace", "200", "--home", daemon.home]);
  await killAll();
});

async function run(args: string[], home = daemon.home): Promise<string> {
  const r = await runCli(["run", "--home", home, ...args]);
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  agents.push(id);
  return id;
}

/** A shell in a PTY that will run `paseo attach …` against this daemon. */
function terminal(cols = 100, rows = 30): Pty {
  return shellPty({ PASEO_HOME: daemon.home }, cols, rows);
}

const ATTACH = (args: string) => `$PASEO attach ${args}; echo "attach-exit=$?"\r`;
const STTY_STATE = `stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo\r`;
const OPOST_STATE = `stty -a | tr ' ' '\\n' | grep -E '^-?(opost|onlcr)$' | tr '\\n' ' '; echo\r`;

describe("paseo attach", () => {
  it("types into bash, resizes the program's terminal, sends Ctrl-C, detaches and restores the terminal", async () => {
    const id = await run([
      "--tty",
      "--cols",
      "80",
      "--rows",
      "24",
      "--name",
      "bash1",
      "--",
      "bash",
      "--norc",
      "--noprofile",
      "-i",
    ]);
    const t = terminal(100, 30);
    await t.waitFor(/\$ $/);
    t.write(`stty -a > /dev/null; ${ATTACH("bash1")}`);
    t.write("echo hi-$((6*7)) $(tput cols)x$(tput lines)\r"); // typed before attach is up: sent once attached
    await t.waitFor(/hi-42 100x30/); // the writer's size won: 80×24 → 100×30
    const py =
      "import signal,os,time; signal.signal(signal.SIGWINCH, lambda *a: print('size=%dx%d' % os.get_terminal_size(), flush=True)); print('ready', flush=True); time.sleep(30)";
    t.write(`python3 -c "${py}"\r`);
    await t.waitFor(/\bready\r*\n/);
    t.resize(120, 40);
    await t.waitFor(/size=120x40/);
    t.write("\x03"); // Ctrl-C reaches the foreground program, not the attach
    await t.waitFor(/KeyboardInterrupt/);
    const mark = t.mark();
    t.write("echo back-$((2+3))\r");
    await t.waitFor(/back-5/, 8000, mark);
    t.write("\x1d"); // Ctrl-]
    await t.waitFor(/\[detached from bash1 \(\w+\); it keeps running/);
    await t.waitFor(/attach-exit=0/);
    const after = t.mark();
    t.write(STTY_STATE);
    await t.waitFor(/icanon echo|echo icanon/, 5000, after); // cooked mode again (not -icanon / -echo)
    const info = await runCli(["ls", "--json", "--home", daemon.home]);
    expect(JSON.parse(info.stdout).find((a: { id: string }) => a.id === id)).toMatchObject({
      state: "running",
      cols: 120,
      rows: 40,
    });
    // ssh-style escape: Enter ~ . detaches too
    const again = t.mark();
    t.write(ATTACH(id));
    await t.waitFor(/back-5/, 8000, again); // the screen comes back from the snapshot
    t.write("\r~.");
    await t.waitFor(/attach-exit=0/, 8000, again);
    t.kill();
  });

  it("is raw for output too: the program's bytes reach the terminal unchanged (no CR added), and opost is back after", async () => {
    // The agent turns off its own PTY's onlcr, so its log holds a bare "\n" (cursor down, same column) and a "\r\n".
    // A terminal left with opost onlcr (Node's setRawMode alone) would show them as "\r\n" and "\r\r\n".
    const id = await run(["--tty", "--", "sh", "-c", "read x; stty -onlcr; printf '<<A\\nB\\r\\nC>>'; read y"]);
    const t = terminal();
    await t.waitFor(/\$ $/);
    const mark = t.mark();
    t.write(ATTACH(id));
    await new Promise((r) => setTimeout(r, 700)); // attached (typing earlier would also work: it is queued)
    t.write("go\r");
    const [got] = await t.waitFor(/<<[\s\S]*?>>/, 8000, mark);
    expect(JSON.stringify(got)).toBe(JSON.stringify("<<A\nB\r\nC>>")); // unfixed: "<<A\r\nB\r\r\nC>>"
    t.write("\x1d");
    await t.waitFor(/attach-exit=0/, 8000, mark);
    expect(t.since(mark)).toContain(RESTORE_MODES); // detach: cursor shown, mouse and bracketed paste off…
    const after = t.mark();
    t.write(OPOST_STATE);
    await t.waitFor(/(?<!-)opost onlcr/, 5000, after); // not "-opost": the user's shell has output processing again
    t.kill();
  });

  it("restores a full-screen program's screen on re-attach", async () => {
    const curses =
      "import curses,time\ndef main(s):\n  curses.curs_set(0)\n  s.addstr(5, 10, 'CURSES-SCREEN-OK')\n  s.refresh()\n  time.sleep(60)\ncurses.wrapper(main)\n";
    const id = await run(["--tty", "--cols", "60", "--rows", "20", "--", "python3", "-c", curses]);
    const t = terminal(60, 20);
    await t.waitFor(/\$ $/);
    await new Promise((r) => setTimeout(r, 500)); // let it draw
    for (let i = 0; i < 2; i++) {
      const mark = t.mark();
      t.write(ATTACH(id));
      const m = await t.waitFor(/CURSES-SCREEN-OK/, 8000, mark);
      expect(t.since(mark)).toContain("\x1b[?1049h"); // drawn on the alternate screen, as the program did
      void m;
      t.write("\x1d");
      await t.waitFor(/attach-exit=0/, 8000, mark);
      expect(t.since(mark)).toContain("\x1b[?1049l"); // and the user's own screen is back after detaching
    }
    t.kill();
  });

  it("one writer, watchers; --take moves control and tells the old writer; --read-only input is refused", async () => {
    const id = await run(["--tty", "--name", "shared", "--", "bash", "--norc", "--noprofile", "-i"]);
    const a = terminal();
    const b = terminal();
    await Promise.all([a.waitFor(/\$ $/), b.waitFor(/\$ $/)]);
    a.write(ATTACH("shared"));
    a.write("echo from-a-$((1+1))\r");
    await a.waitFor(/from-a-2/);
    b.write(ATTACH("shared"));
    await b.waitFor(/from-a-2/); // the watcher sees the writer's screen
    b.write("echo from-b\r");
    await b.waitFor(/watching: another client has control; Enter ~ t takes it \[NOT_WRITER\]/);
    const c = terminal();
    await c.waitFor(/\$ $/);
    c.write(ATTACH(`${id} --take`));
    await a.waitFor(/another client took control; you are watching now/);
    c.write("echo from-c-$((3+3))\r");
    await Promise.all([a.waitFor(/from-c-6/), b.waitFor(/from-c-6/)]);
    const ma = a.mark();
    a.write("x");
    await a.waitFor(/\[NOT_WRITER\]/, 5000, ma);
    expect(c.text).not.toMatch(/from-b/); // the watcher's keys never reached bash
    // Enter ~ t takes control back from the keyboard
    const mc = c.mark();
    a.write("\r~t");
    await a.waitFor(/you have control/, 5000, ma);
    await c.waitFor(/another client took control/, 5000, mc);
    a.write("echo back-to-a-$((4+4))\r");
    await c.waitFor(/back-to-a-8/, 5000, mc);

    const r = terminal();
    await r.waitFor(/\$ $/);
    r.write(ATTACH("shared --read-only"));
    await r.waitFor(/from-c-6/);
    r.write("echo ro\r");
    await r.waitFor(/read-only: input is not sent \[NOT_WRITER\]/);
    for (const p of [a, b, c, r]) p.kill();
  });

  it("exits with the agent's exit code after printing how it ended", async () => {
    await run(["--tty", "--name", "ender", "--", "sh", "-c", "read x; echo bye-$x; exit 7"]);
    const t = terminal();
    await t.waitFor(/\$ $/);
    t.write(ATTACH("ender"));
    await new Promise((r) => setTimeout(r, 700)); // attached (typing earlier would also work: it is queued)
    t.write("now\r");
    await t.waitFor(/bye-now/);
    await t.waitFor(/\[agent ender exited with code 7\]/);
    await t.waitFor(/attach-exit=7/);
    expect(t.text).toContain(RESTORE_MODES); // the agent's end restores the modes too
    t.write(STTY_STATE);
    await t.waitFor(/icanon echo|echo icanon/);
    // attaching to the ended agent shows its final screen and reports the same end
    const mark = t.mark();
    t.write(ATTACH("ender"));
    await t.waitFor(/attach-exit=7/, 8000, mark);
    expect(t.since(mark)).toMatch(/bye-now[\s\S]*\[agent ender exited with code 7\]/);
    t.kill();
  });

  it("restores the terminal when attach is killed by SIGTERM or SIGHUP", async () => {
    const id = await run([
      "--tty",
      "--",
      "python3",
      "-c",
      "import curses,time; curses.wrapper(lambda s: (s.addstr(2, 2, 'FULLSCREEN'), s.refresh(), time.sleep(60)))",
    ]);
    for (const [signal, code] of [
      ["SIGTERM", 143],
      ["SIGHUP", 129],
    ] as const) {
      const t = terminal();
      await t.waitFor(/\$ $/);
      const mark = t.mark();
      t.write(ATTACH(id));
      await t.waitFor(/FULLSCREEN/, 8000, mark);
      const attachPid = Number(readFileSync(`/proc/${t.pid}/task/${t.pid}/children`, "utf8").trim().split(/\s+/)[0]);
      process.kill(attachPid, signal);
      await t.waitFor(new RegExp(`attach-exit=${code}`), 8000, mark);
      expect(t.since(mark)).toContain(RESTORE_MODES);
      const after = t.mark();
      t.write(STTY_STATE);
      await t.waitFor(/icanon echo|echo icanon/, 5000, after);
      t.write(OPOST_STATE);
      await t.waitFor(/(?<!-)opost onlcr/, 5000, after); // not "-opost"
      t.kill();
    }
  });

  it("run --tty takes this terminal's size by default (80×24 without one); --cols/--rows need --tty", async () => {
    const t = terminal(111, 33);
    await t.waitFor(/\$ $/);
    t.write("$PASEO run --tty --json -- sleep 20 | grep -E '\"(cols|rows)\"' | tr -d ' ,\\n'; echo\r");
    await t.waitFor(/"cols":111"rows":33/);
    const r = await runCli(["run", "--tty", "--json", "--home", daemon.home, "--", "sleep", "20"]);
    const info = JSON.parse(r.stdout);
    agents.push(info.id);
    expect([info.tty, info.cols, info.rows]).toEqual([true, 80, 24]);
    const pipeId = await run(["--name", "plain", "--", "sleep", "20"]);
    const ls = await runCli(["ls", "--home", daemon.home]);
    expect(ls.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATUS\s+PID\s+TTY\s+STARTED\s+COMMAND$/);
    expect(ls.stdout).toMatch(new RegExp(`^${info.id}\\s+\\S+\\s+running\\s+\\d+\\s+80x24\\s`, "m")); // a terminal says so, with its size
    expect(ls.stdout).toMatch(new RegExp(`^${pipeId}\\s+plain\\s+running\\s+\\d+\\s+-\\s`, "m"));
    const bad = await runCli(["run", "--cols", "90", "--home", daemon.home, "--", "true"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--cols and --rows need --tty/);
    t.kill();
  });

  it("refuses a stdin that is not a terminal with a named error", async () => {
    const id = await run(["--tty", "--", "sleep", "30"]);
    const r = await runCli(["attach", id, "--home", daemon.home]);
    expect(r.code).toBe(255); // paseo's own failure, apart from any agent status (like ssh)
    expect(r.stderr).toMatch(/needs a terminal on stdin.*\[NOT_A_TTY\]/);
  });

  it("survives a restart of the local daemon: waits for it, reconnects with its new offer, resumes exactly", async () => {
    const d = await startDaemonProcess({ relay: "none" });
    const script = "i=0; while [ $i -lt 80 ]; do i=$((i+1)); echo tock-$i; sleep 0.05; done; exit 4";
    await run(["--tty", "--name", "tocker", "--", "sh", "-c", script], d.home);
    const t = shellPty({ PASEO_HOME: d.home });
    await t.waitFor(/\$ $/);
    const mark = t.mark();
    t.write(ATTACH("tocker"));
    await t.waitFor(/tock-10\b/, 8000, mark);
    await d.stop(); // agents outlive the daemon
    await t.waitFor(/waiting up to 30 s for it to start again/, 5000, mark);
    await startDaemonProcess({ home: d.home, relay: "none" });
    await t.waitFor(/attach-exit=4/, 20_000, mark);
    const ticks = t.since(mark).match(/tock-\d+/g)!;
    expect(ticks).toEqual(Array.from({ length: 80 }, (_, i) => `tock-${i + 1}`));
    expect(t.since(mark)).toMatch(/reconnected/);
    t.kill();
  }, 40_000);

  it("reconnects through a restarted relay and resumes: every line exactly once", async () => {
    const relay = await startRelayProcess();
    const d = await startDaemonProcess({ relay: `ws://127.0.0.1:${relay.port}` });
    const script = "i=0; while [ $i -lt 80 ]; do i=$((i+1)); echo tick-$i; sleep 0.05; done; exit 0";
    await run(["--tty", "--name", "ticker", "--", "sh", "-c", script], d.home);
    const t = shellPty({ PASEO_HOME: "/nonexistent", PASEO_RELAY_OFFER: d.link! });
    await t.waitFor(/\$ $/);
    const mark = t.mark();
    t.write(ATTACH("ticker"));
    await t.waitFor(/tick-15\b/, 8000, mark);
    await relay.stop();
    const again = await startRelayProcess(relay.port);
    await t.waitFor(/attach-exit=0/, 20_000, mark);
    const ticks = t.since(mark).match(/tick-\d+/g)!;
    expect(ticks).toEqual(Array.from({ length: 80 }, (_, i) => `tick-${i + 1}`));
    expect(t.since(mark)).toMatch(/reconnecting/);
    await again.stop();
    t.kill();
  }, 40_000);
});
