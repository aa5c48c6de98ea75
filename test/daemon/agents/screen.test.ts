/** ScreenState as a follower of the log, and PtySession flow control (the pieces of a terminal agent's host). */
import { join } from "node:path";
import headless from "@xterm/headless";
import { afterEach, describe, expect, it } from "vitest";
import { LogFile } from "../../../src/daemon/agents/log-file.js";
import { PtySession } from "../../../src/daemon/agents/pty-session.js";
import { ScreenState } from "../../../src/daemon/agents/screen-state.js";
import { cleanup, sha256, tempDir } from "./helpers.js";

afterEach(cleanup);

async function renderLines(cols: number, rows: number, data: string): Promise<string[]> {
  const t = new headless.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  await new Promise<void>((res) => t.write(data, res));
  const b = t.buffer.active;
  const lines = Array.from({ length: rows }, (_, y) => b.getLine(b.viewportY + y)?.translateToString(true) ?? "");
  t.dispose();
  return lines;
}

describe("screen state", () => {
  it("follows a log written far faster than it parses (pausing and reading the rest from disk), exactly, resizes in place", async () => {
    const lf = LogFile.create(join(await tempDir(), "output.log"), () => undefined);
    const screen = new ScreenState(80, 24, lf, 1, () => undefined);
    const put = (s: string): void => lf.append(1, Buffer.from(s));
    // ~12 MB appended synchronously: the parser cannot keep up, its subscription must pause and resume from disk.
    for (let i = 0; i < 3000; i++) put(`\x1b[3${i % 8}mrow ${i}\x1b[0m ${"y".repeat(60)}\r\n`.repeat(64));
    expect(screen.lagBytes).toBeGreaterThan(8 << 20);
    screen.resize(60, 20); // at this point in the stream; what follows is for 60×20
    for (let i = 0; i < 30; i++) put(`after ${i}\r\n`);
    const snap = await screen.snapshot();
    expect(snap).toMatchObject({ seq: lf.nextSeq, cols: 60, rows: 20 });
    expect(screen.lagBytes).toBe(0);
    const got = await renderLines(60, 20, snap.data);
    expect(got.at(-2)).toBe("after 29");
    expect(got[0]).toBe("after 11");
    screen.dispose();
    lf.seal();
  }, 60_000);
});

describe("PtySession flow control", () => {
  it("a program that exits while reading is paused loses nothing: the drain waits for resume", async () => {
    const size = 8 * 1024; // fits in the kernel's PTY buffers: the program exits while its output waits unread
    const parts: Uint8Array[] = [];
    const s = PtySession.spawn(
      {
        argv: ["sh", "-c", `head -c ${size} /dev/zero | tr '\\0' z`],
        cwd: "/",
        env: { ...(process.env as Record<string, string>) },
        cols: 80,
        rows: 24,
      },
      (d) => parts.push(new Uint8Array(d)),
    );
    s.pause();
    let done = false;
    void s.done.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 1500)); // far past the drain's quiet period: nothing may be cut
    expect(done).toBe(false);
    s.resume();
    const status = await s.done;
    expect(status).toEqual({ code: 0, signal: null });
    const all = Buffer.concat(parts);
    expect(all.length).toBe(size);
    expect(sha256(all)).toBe(sha256(Buffer.alloc(size, "z")));
  }, 30_000);
});
