/**
 * DaemonClient.attach / TerminalSession against a real in-process daemon running real PTY agents (bash, sh):
 * snapshot then live output, input, lanes (writer, watcher, take, read-only), resize, exit, resume after a dropped
 * connection, and the named refusals of the wire (NOT_WRITER, READ_ONLY, NOT_A_TERMINAL, INPUT_TOO_LARGE).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/daemon/logger.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import { createHash } from "node:crypto";
import { streamHost } from "../../src/client/daemon-client.js";
import { DaemonClient, MAX_PENDING_BYTES, type TerminalSession, type LaneChange } from "../../src/index.js";
import type { Offer } from "../../src/protocol/offer.js";
import { toBase64Url } from "../../src/protocol/encoding.js";

let home: string;
let daemon: Daemon;
let offer: Offer;
const clients: DaemonClient[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "paseo-term-"));
  daemon = await startDaemon({ home, relay: null, log: silentLogger, pairOnStart: false });
  offer = (await readLocalOffer(home))!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const a of daemon.agents.list()) await daemon.agents.stop(a.id, 500).catch(() => {});
  await daemon.close();
  rmSync(home, { recursive: true, force: true });
});

function client(reconnect = false): DaemonClient {
  const c = new DaemonClient({ offer, reconnect: reconnect ? { minMs: 50, maxMs: 200 } : false });
  clients.push(c);
  return c;
}

/** Collects a session's output as text; `until` waits (bounded) for a pattern. */
function screenText(t: TerminalSession) {
  let text = "";
  const dec = new TextDecoder();
  t.onData((d) => (text += dec.decode(d, { stream: true })));
  return {
    get text() {
      return text;
    },
    async until(pattern: RegExp, ms = 5000): Promise<void> {
      const end = Date.now() + ms;
      while (!pattern.test(text)) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${pattern}; got: ${JSON.stringify(text.slice(-400))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const BASH = ["bash", "--norc", "--noprofile", "-i"];

describe("DaemonClient.attach", () => {
  it("shows the screen, then live output; the writer's keystrokes reach the program", async () => {
    const c = client();
    const agent = await c.runAgent({ argv: BASH, tty: true, env: { PS1: "$ " } });
    const t = await c.attach(agent.id, { cols: 100, rows: 30 });
    expect(t.lane).toBe("writer");
    expect(t.screen).not.toBeNull();
    expect([t.cols, t.rows]).toEqual([100, 30]); // the writer's size won
    const out = screenText(t);
    await t.write("echo hi-$((6*7)); tput cols\r");
    await out.until(/hi-42\r?\n100/);
    await t.detach();
    expect(await t.done).toBeNull();
    expect((await c.getAgent(agent.id)).state).toBe("running"); // detaching leaves the agent running
  });

  it("one writer, watchers; take moves the lane and tells the old writer; read-only never writes", async () => {
    const a = client();
    const b = client();
    const agent = await a.runAgent({ argv: BASH, tty: true, env: { PS1: "$ " } });
    const ta = await a.attach(agent.id, { cols: 80, rows: 24 });
    const tb = await b.attach(agent.id, { cols: 120, rows: 40 });
    expect([ta.lane, tb.lane, tb.writer]).toEqual(["writer", "watcher", true]);
    expect(tb.cols).toBe(80); // a watcher's size does not win
    const bOut = screenText(tb);
    await expect(tb.write("echo nope\r")).rejects.toMatchObject({ code: "NOT_WRITER" });
    await expect(b.sendInput(agent.id, "echo nope\r")).rejects.toMatchObject({ code: "NOT_WRITER" }); // no side door
    const aLanes: LaneChange[] = [];
    ta.on("lane", (l) => aLanes.push(l));
    const resized = new Promise((r) => ta.on("resize", r));
    await tb.take();
    expect(tb.lane).toBe("writer");
    await resized; // b's size applied after take: a sees the resize
    expect([ta.cols, ta.rows]).toEqual([120, 40]);
    await expect.poll(() => aLanes).toEqual([{ lane: "watcher", writer: true, reason: "taken" }]);
    await expect(ta.write("x")).rejects.toMatchObject({ code: "NOT_WRITER" });
    await tb.write("echo from-b-$((1+1))\r");
    await bOut.until(/from-b-2/);
    expect(bOut.text).not.toMatch(/nope/);

    const ro = await client().attach(agent.id, { readOnly: true });
    expect(ro.lane).toBe("watcher");
    await expect(ro.take()).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(ro.write("echo ro\r")).rejects.toMatchObject({ code: "NOT_WRITER" });

    // the writer's detach frees the lane; the watcher is told, and is not promoted
    const freed = new Promise<LaneChange>((r) => ta.on("lane", r));
    await tb.detach();
    expect(await freed).toEqual({ lane: "watcher", writer: false, reason: "writer-left" });
    await ta.take();
    expect(ta.lane).toBe("writer");
  });

  it("the agent's end reaches the attachment after its last byte, with the exit code", async () => {
    const c = client();
    const agent = await c.runAgent({ argv: ["sh", "-c", "read x; echo got-$x; exit 3"], tty: true });
    const t = await c.attach(agent.id);
    const out = screenText(t);
    await t.write("go\r");
    const ended = await t.done;
    expect(ended).toMatchObject({ exitCode: 3, state: "exited" });
    expect(out.text).toMatch(/got-go/);
    expect(t.state).toBe("ended");
  });

  it("a dropped connection re-attaches and resumes: every line exactly once", async () => {
    const c = client(true);
    const agent = await c.runAgent({
      argv: ["sh", "-c", "i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo line-$i; sleep 0.02; done"],
      tty: true,
    });
    const t = await c.attach(agent.id);
    const out = screenText(t);
    const states: string[] = [];
    t.on("state", (s) => states.push(s));
    await out.until(/line-10\b/);
    // Kill the socket under the session (no close handshake), as a network drop would.
    const session = await streamHost(c).sessionForStreaming();
    (session as unknown as { socket: { terminate(): void } }).socket.terminate();
    const ended = await t.done;
    expect(ended?.exitCode).toBe(0);
    expect(states).toContain("reconnecting");
    const lines = out.text.match(/line-\d+/g)!;
    expect(lines).toEqual(Array.from({ length: 60 }, (_, i) => `line-${i + 1}`));
  });

  it("refuses pipe agents and oversized input with named errors", async () => {
    const c = client();
    const pipe = await c.runAgent({ argv: ["sleep", "5"] });
    await expect(c.attach(pipe.id)).rejects.toMatchObject({ code: "NOT_A_TERMINAL" });
    const agent = await c.runAgent({ argv: ["cat"], tty: true });
    const t = await c.attach(agent.id);
    expect(t.lane).toBe("writer");
    await expect(
      c.call("terminal.input", { id: agent.id, dataB64: toBase64Url(new Uint8Array(64 * 1024 + 1)) }),
    ).rejects.toMatchObject({
      code: "INPUT_TOO_LARGE",
    });
    await expect(c.call("terminal.attach", { id: agent.id, sub: 7, mode: "watch", take: true })).rejects.toMatchObject({
      code: "BAD_PARAMS",
    });
    await t.detach();
  });

  it("a large paste arrives whole (split into bounded messages); a flood of messages meets INPUT_RATE_LIMITED", async () => {
    const c = client();
    const reader =
      "import os,sys,tty\ntty.setraw(0)\nprint('raw-ready', flush=True)\nn=0\nwhile n<300000: n+=len(os.read(0,65536))\nprint('got=%d' % n, flush=True)\nos.read(0,1)\n";
    const agent = await c.runAgent({ argv: ["python3", "-c", reader], tty: true });
    const t = await c.attach(agent.id);
    const out = screenText(t);
    await out.until(/raw-ready/); // the reader is in raw mode: no echo, no line limit
    await t.write(new Uint8Array(300000).fill(0x61));
    await out.until(/got=300000/);
    // 450 one-byte messages at once: the bucket (burst 400) refuses some, each with the named limit
    const results = await Promise.allSettled(
      Array.from({ length: 450 }, () =>
        c.call("terminal.input", { id: agent.id, dataB64: toBase64Url(new Uint8Array([0x62])) }),
      ),
    );
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "INPUT_RATE_LIMITED" });
    await t.detach();
  });

  it("a consumer far behind gets every byte exactly once while the client holds a bounded amount", async () => {
    const c = client();
    const script = "import sys\nfor i in range(160000): sys.stdout.write('%07d' % i + 'x' * 72 + '\\n')\n"; // ~12.8 MB
    const agent = await c.runAgent({ argv: ["python3", "-c", script], tty: true });
    const t = await c.attach(agent.id);
    const fromSeq = t.screen!.seq;
    const got = createHash("sha256");
    let first = true;
    let total = 0;
    let peak = 0;
    for await (const data of t) {
      if (first) {
        first = false; // the snapshot; now stall until the agent has written everything (> MAX_PENDING_BYTES)
        for (let i = 0; i < 400 && (await c.getAgent(agent.id)).state === "running"; i++) {
          peak = Math.max(peak, t.pendingBytes);
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 300));
        peak = Math.max(peak, t.pendingBytes);
        continue;
      }
      got.update(data);
      total += data.length;
    }
    expect((await t.done)?.exitCode).toBe(0);
    const want = createHash("sha256");
    let logged = 0;
    for await (const chunk of c.logs(agent.id, { since: fromSeq })) {
      want.update(chunk.data);
      logged += chunk.data.length;
    }
    expect(total).toBe(logged);
    expect(logged).toBeGreaterThan(MAX_PENDING_BYTES + (2 << 20));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(MAX_PENDING_BYTES + (1 << 20)); // the stream paused instead of buffering everything
    expect(got.digest("hex")).toBe(want.digest("hex"));
  }, 30_000);
});
