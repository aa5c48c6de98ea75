/** Terminal agents (tty: true): real programs under a real PTY, screen snapshots, resize, Ctrl-C, lossless exit. */
import headless from "@xterm/headless";
import { afterEach, describe, expect, it } from "vitest";
import { AgentError, type AgentInfo, type AgentManager } from "../../../src/daemon/agents/index.js";
import { cleanup, expectContiguous, newManager, readAll, sha256, textOf, waitFor } from "./helpers.js";

afterEach(cleanup);

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

const py = (script: string): string[] => ["python3", "-c", script];

async function waitEnded(m: AgentManager, id: string, timeoutMs = 20_000): Promise<AgentInfo> {
  return waitFor(
    () => {
      const info = m.get(id);
      return info.state !== "running" ? info : null;
    },
    timeoutMs,
    `agent ${id} to end`,
  );
}

async function waitText(m: AgentManager, id: string, needle: string | RegExp): Promise<string> {
  return waitFor(
    async () => {
      const t = textOf(await readAll(m, id));
      return (typeof needle === "string" ? t.includes(needle) : needle.test(t)) ? t : null;
    },
    15_000,
    `output ${String(needle)}`,
  );
}

/** Lines of a terminal's active buffer after writing `data` into a fresh cols × rows headless terminal. */
async function render(
  cols: number,
  rows: number,
  ...data: (string | Uint8Array)[]
): Promise<{ lines: string[]; alt: boolean; cursor: [number, number] }> {
  const t = new headless.Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  for (const d of data) await new Promise<void>((res) => t.write(d, res));
  const b = t.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < rows; y++) lines.push(b.getLine(b.viewportY + y)?.translateToString(true) ?? "");
  const out = { lines, alt: b.type === "alternate", cursor: [b.cursorX, b.cursorY] as [number, number] };
  t.dispose();
  return out;
}

describe("terminal agents", () => {
  it("run under a PTY: isatty() is true, the size is the requested one, TERM is xterm-256color, output is fd 1", async () => {
    const m = await newManager();
    const script =
      "import os,sys; sz=os.get_terminal_size(); print('tty', sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty(), sz.columns, sz.lines, os.environ['TERM']); print('err', file=sys.stderr)";
    const a = await m.run({ argv: py(script), tty: true, cols: 100, rows: 30 });
    expect(a).toMatchObject({ tty: true, cols: 100, rows: 30, state: "running" });
    const info = await waitEnded(m, a.id);
    expect(info).toMatchObject({ state: "exited", exitCode: 0, tty: true, cols: 100, rows: 30 });
    const chunks = await readAll(m, a.id);
    expectContiguous(chunks);
    expect(chunks.every((c) => c.fd === 1)).toBe(true);
    const text = textOf(chunks);
    expect(text).toContain("tty True True True 100 30 xterm-256color\r\n");
    expect(text).toContain("err\r\n");

    // Defaults 80×24; a caller's env may override TERM. Pipe agents report tty: false and no size.
    const d = await m.run({
      argv: py("import os; sz=os.get_terminal_size(); print(sz.columns, sz.lines, os.environ['TERM'])"),
      tty: true,
      env: { TERM: "vt100" },
    });
    expect(d).toMatchObject({ tty: true, cols: 80, rows: 24 });
    await waitEnded(m, d.id);
    expect(textOf(await readAll(m, d.id))).toBe("80 24 vt100\r\n");
    const p = await m.run({ argv: py("print(1)") });
    expect(p).toMatchObject({ tty: false, cols: null, rows: null });
  });

  it("validates sizes and refuses terminal operations on pipe agents with named errors", async () => {
    const m = await newManager();
    await expect(m.run({ argv: ["true"], tty: true, cols: 1 })).rejects.toMatchObject({
      code: "BAD_PARAMS",
      message: expect.stringMatching(/cols must be an integer between 2 and 1000/),
    });
    await expect(m.run({ argv: ["true"], tty: true, rows: 501 })).rejects.toMatchObject({
      code: "BAD_PARAMS",
      message: expect.stringMatching(/rows .* 2 and 500/),
    });
    await expect(m.run({ argv: ["true"], cols: 80 })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    const pipe = await m.run({ argv: ["sleep", "30"] });
    await expect(m.resize(pipe.id, 80, 24)).rejects.toMatchObject({ code: "NOT_A_TERMINAL" });
    await expect(m.screen(pipe.id)).rejects.toBeInstanceOf(AgentError);
    await expect(m.screen(pipe.id)).rejects.toMatchObject({ code: "NOT_A_TERMINAL" });
    const t = await m.run({ argv: ["true"], tty: true });
    await waitEnded(m, t.id);
    await expect(m.resize(t.id, 100, 30)).rejects.toMatchObject({ code: "NOT_RUNNING" });
    const s = await m.run({ argv: ["sleep", "30"], tty: true });
    await expect(m.resize(s.id, 1001, 30)).rejects.toMatchObject({ code: "BAD_PARAMS" });
  });

  it("resize reaches the program (its SIGWINCH handler reports the new size) and emits an agent event", async () => {
    const m = await newManager();
    const script = [
      "import os,signal,sys,time",
      "def h(*a):",
      "  sz=os.get_terminal_size(); print('winch %dx%d' % (sz.columns, sz.lines), flush=True)",
      "signal.signal(signal.SIGWINCH, h)",
      "print('ready', flush=True)",
      "time.sleep(30)",
    ].join("\n");
    const a = await m.run({ argv: py(script), tty: true, cols: 80, rows: 24 });
    await waitText(m, a.id, "ready");
    const events: AgentInfo[] = [];
    m.on("agent", (i) => events.push(i));
    const info = await m.resize(a.id, 132, 43);
    expect(info).toMatchObject({ cols: 132, rows: 43, state: "running" });
    expect(events.at(-1)).toMatchObject({ id: a.id, cols: 132, rows: 43 });
    await waitText(m, a.id, "winch 132x43");
    expect(m.get(a.id)).toMatchObject({ cols: 132, rows: 43 });
    const snap = await m.screen(a.id);
    expect([snap.cols, snap.rows]).toEqual([132, 43]);
  });

  it("screen() reproduces a full-screen curses program; snapshot + log from its seq = the later screen", async () => {
    const m = await newManager();
    const script = [
      "import curses,sys",
      "def main(s):",
      "  curses.curs_set(1)",
      "  s.addstr(0, 0, 'TOP LINE')",
      "  s.addstr(5, 10, 'HELLO CURSES', curses.A_BOLD)",
      "  s.addstr(9, 3, 'press a key')",
      "  s.move(7, 4); s.refresh()",
      "  k = s.getkey()",
      "  s.addstr(12, 2, 'got key ' + k); s.move(13, 0); s.refresh()",
      "  s.getkey()",
      "curses.wrapper(main)",
      "print('bye')",
    ].join("\n");
    const a = await m.run({ argv: py(script), tty: true, cols: 60, rows: 20 });
    await waitText(m, a.id, "press a key");
    // The program may still be finishing its refresh: wait until the screen settles on it.
    const first = await waitFor(
      async () => {
        const s = await m.screen(a.id);
        const r = await render(s.cols, s.rows, s.data);
        return r.lines[9]?.includes("press a key") ? { s, r } : null;
      },
      10_000,
      "the curses screen",
    );
    expect(first.s).toMatchObject({ cols: 60, rows: 20 });
    expect(first.r.alt).toBe(true);
    expect(first.r.lines[0]).toBe("TOP LINE");
    expect(first.r.lines[5]).toBe("          HELLO CURSES");
    expect(first.r.cursor).toEqual([4, 7]);

    await m.sendInput(a.id, Buffer.from("x"));
    await waitText(m, a.id, "got key x");
    const second = await waitFor(
      async () => {
        const s = await m.screen(a.id);
        const r = await render(s.cols, s.rows, s.data);
        return r.lines[12]?.includes("got key x") ? { s, r } : null;
      },
      10_000,
      "the second screen",
    );
    // Contract: snapshot.data, then the log from snapshot.seq, gives the current screen.
    const later = (await readAll(m, a.id))
      .filter((c) => c.seq >= first.s.seq && c.seq < second.s.seq)
      .map((c) => c.data);
    const replayed = await render(60, 20, first.s.data, ...later);
    expect(replayed.lines).toEqual(second.r.lines);
    expect(replayed.cursor).toEqual(second.r.cursor);

    // Ended agents keep their final screen (curses left the alternate screen; "bye" is on the normal one).
    await m.sendInput(a.id, Buffer.from("q"));
    await waitEnded(m, a.id);
    const final = await m.screen(a.id);
    expect(final.seq).toBe(m.get(a.id).nextSeq);
    const r = await render(final.cols, final.rows, final.data);
    expect(r.alt).toBe(false);
    expect(r.lines.join("\n")).toContain("bye");
  });

  it("the screen stays exact through a burst far larger than the parser keeps up with (flow control), with a resize in it", async () => {
    const m = await newManager();
    // ~8 MB of numbered, coloured lines, a resize request half way (the program keeps printing), then a marker.
    const script = [
      "import sys,time",
      "w=sys.stdout.write",
      "for i in range(60000): w('\\x1b[3%dmline %06d\\x1b[0m ' % (i % 8, i) + 'x' * 120 + '\\n')",
      "sys.stdout.flush(); print('HALF', flush=True); time.sleep(0.3)",
      "for i in range(60000, 70000): w('line %06d\\n' % i)",
      "print('DONE', flush=True); time.sleep(30)",
    ].join("\n");
    const a = await m.run({ argv: py(script), tty: true, cols: 100, rows: 30 });
    await waitText(m, a.id, "HALF");
    await m.resize(a.id, 90, 25);
    await waitText(m, a.id, "DONE");
    const snap = await m.screen(a.id);
    expect([snap.cols, snap.rows]).toEqual([90, 25]);
    const all = await readAll(m, a.id);
    expect(snap.seq).toBe(all.at(-1)!.seq + 1); // caught up with the log's end as of the call
    const r = await render(snap.cols, snap.rows, snap.data);
    expect(r.lines.at(-2)).toBe("DONE");
    expect(r.lines.at(-3)).toBe("line 069999");
    expect(r.lines[0]).toBe(`line ${String(69999 - 22).padStart(6, "0")}`);
  }, 120_000);

  it("Ctrl-C (\\x03) through sendInput reaches the foreground program as SIGINT", async () => {
    const m = await newManager();
    const script = [
      "import signal,sys,time",
      "def h(*a):",
      "  print('got SIGINT', flush=True); sys.exit(7)",
      "signal.signal(signal.SIGINT, h)",
      "print('ready', flush=True)",
      "time.sleep(30)",
    ].join("\n");
    // Under a shell, so the foreground process group is not just the session leader.
    const a = await m.run({
      argv: ["bash", "-c", `python3 -c "${script.replace(/"/g, '\\"')}"; echo "rc=$?"`],
      tty: true,
    });
    await waitText(m, a.id, "ready");
    await m.sendInput(a.id, Buffer.from([3]));
    const info = await waitEnded(m, a.id);
    const text = textOf(await readAll(m, a.id));
    expect(text).toContain("^C");
    expect(text).toContain("got SIGINT");
    expect(text).toContain("rc=7");
    expect(info).toMatchObject({ state: "exited", exitCode: 0 });
  });

  it("a large burst right before exit is logged completely (the PTY is drained before the exit is recorded)", async () => {
    const m = await newManager();
    const size = 6 * 1024 * 1024;
    // No newlines: the PTY's output processing (ONLCR) leaves the bytes as they are, so they can be hashed.
    const pattern = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
    const expected = sha256(pattern.repeat(size / pattern.length));
    for (let run = 0; run < 2; run++) {
      // A pipeline under bash, like a real shell: the writer is a grandchild, bash exits right after it.
      const a = await m.run({
        argv: ["bash", "-c", `python3 -c "import sys; sys.stdout.write('${pattern}'*${size / pattern.length})" | cat`],
        tty: true,
      });
      // A busy daemon (here: a follower that blocks the event loop now and then) reads slower than the program
      // writes, so the program exits while its last output is still queued in the PTY: the case that lost data.
      let n = 0;
      m.subscribe(
        a.id,
        1,
        () => {
          if (++n % 40 === 0) busyWait(25);
        },
        () => undefined,
      );
      const info = await waitEnded(m, a.id, 60_000);
      expect(info).toMatchObject({ state: "exited", exitCode: 0 });
      const chunks = await readAll(m, a.id);
      expectContiguous(chunks);
      const data = Buffer.concat(chunks.map((c) => c.data));
      expect(data.length, `run ${run}`).toBe(size);
      expect(sha256(data), `run ${run}`).toBe(expected);
      expect(info.bytes).toBe(size);
    }
  }, 120_000);
});
