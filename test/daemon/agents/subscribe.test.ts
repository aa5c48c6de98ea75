import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentInfo, AgentManager, OutputChunk } from "../../../src/daemon/agents/index.js";
import { cleanup, expectContiguous, newManager, node, readAll, sha256, textOf, waitFor } from "./helpers.js";

afterEach(cleanup);

const LINES = 5000;
/** A child writing LINES deterministic lines to stdout and every 10th to stderr, one write per event-loop turn. */
const WRITER = `
  const line = (i) => "line " + i + " " + "x".repeat(i % 97) + "\\n";
  let i = 0;
  function next() {
    if (i >= ${LINES}) return;
    const s = line(i);
    if (i % 10 === 0) process.stderr.write("e" + s);
    i++;
    process.stdout.write(s, next);
  }
  next();
`;
function expected(): { out: string; err: string } {
  let out = "";
  let err = "";
  for (let i = 0; i < LINES; i++) {
    const s = `line ${i} ${"x".repeat(i % 97)}\n`;
    out += s;
    if (i % 10 === 0) err += `e${s}`;
  }
  return { out: sha256(out), err: sha256(err) };
}

interface Collected {
  chunks: OutputChunk[];
  ended: Promise<AgentInfo>;
  handle: ReturnType<AgentManager["subscribe"]>;
}

function collect(
  m: AgentManager,
  id: string,
  since: number,
  onChunk?: (c: OutputChunk, all: OutputChunk[]) => void,
): Collected {
  const chunks: OutputChunk[] = [];
  let handle!: Collected["handle"];
  const ended = new Promise<AgentInfo>((resolve, reject) => {
    handle = m.subscribe(
      id,
      since,
      (c) => {
        chunks.push({ ...c, data: new Uint8Array(c.data) });
        onChunk?.(c, chunks);
      },
      resolve,
      reject,
    );
  });
  return { chunks, ended, handle };
}

function hashes(chunks: OutputChunk[]): { out: string; err: string } {
  const h = { 1: createHash("sha256"), 2: createHash("sha256") };
  for (const c of chunks) h[c.fd].update(c.data);
  return { out: h[1].digest("hex"), err: h[2].digest("hex") };
}

describe("subscribe: replay + live without gap or duplicate", () => {
  it("follows a fast writer from seq 1: exact bytes, contiguous seqs, one onEnd", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(WRITER) });
    let ends = 0;
    const sub = collect(m, a.id, 1);
    void sub.ended.then(() => ends++);
    const info = await sub.ended;
    expect(info.state).toBe("exited");
    expectContiguous(sub.chunks);
    expect(sub.chunks.length).toBe(info.nextSeq - 1);
    expect(sub.chunks.length).toBeGreaterThan(10);
    expect(hashes(sub.chunks)).toEqual(expected());
    expect(hashes(await readAll(m, a.id))).toEqual(expected());
    await new Promise((r) => setTimeout(r, 50));
    expect(ends).toBe(1);
  });

  it("several subscribers joining at different moments all get everything", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(WRITER) });
    const subs = [collect(m, a.id, 1)];
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, 15 * (k + 1)));
      subs.push(collect(m, a.id, 1));
    }
    await Promise.all(subs.map((s) => s.ended));
    for (const s of subs) {
      expectContiguous(s.chunks);
      expect(hashes(s.chunks)).toEqual(expected());
    }
  });

  it("pause/resume mid-stream (slow consumer) still delivers every byte exactly once", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(WRITER) });
    let pauses = 0;
    const sub = collect(m, a.id, 1, (c) => {
      if (c.seq % 13 === 0) {
        pauses++;
        sub.handle.pause();
        setTimeout(() => sub.handle.resume(), 3);
      }
    });
    await sub.ended;
    expect(pauses).toBeGreaterThan(0);
    expectContiguous(sub.chunks);
    expect(hashes(sub.chunks)).toEqual(expected());
  });

  it("nothing is delivered while paused; resume continues from disk", async () => {
    const m = await newManager();
    const a = await m.run({
      argv: node(
        `let i = 0; const t = setInterval(() => { console.log("tick " + i++); if (i === 20) clearInterval(t); }, 5);`,
      ),
    });
    const sub = collect(m, a.id, 1, (_c, all) => {
      if (all.length === 3) sub.handle.pause();
    });
    await waitFor(() => sub.chunks.length === 3, 10_000, "3 chunks");
    await waitFor(() => m.get(a.id).state === "exited", 10_000, "exit");
    await new Promise((r) => setTimeout(r, 30));
    expect(sub.chunks.length).toBe(3);
    sub.handle.resume();
    await sub.ended;
    expectContiguous(sub.chunks);
    expect(textOf(sub.chunks)).toBe(Array.from({ length: 20 }, (_, i) => `tick ${i}\n`).join(""));
  });

  it("resumes from an arbitrary seq: disconnect after K chunks, resubscribe at lastSeq + 1", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(WRITER) });
    const parts: OutputChunk[][] = [];
    let since = 1;
    for (let round = 0; round < 10_000; round++) {
      const k = 5 + (round % 4) * 3;
      let drop!: () => void;
      const dropped = new Promise<"dropped">((r) => (drop = () => r("dropped")));
      const sub = collect(m, a.id, since, (_c, all) => {
        if (all.length === k) {
          sub.handle.unsubscribe();
          drop();
        }
      });
      const outcome = await Promise.race([sub.ended.then(() => "ended" as const), dropped]);
      parts.push(sub.chunks);
      if (outcome === "ended") break;
      since = sub.chunks[sub.chunks.length - 1]!.seq + 1;
      await new Promise((r) => setTimeout(r, round % 3));
    }
    const all = parts.flat();
    expect(parts.length).toBeGreaterThan(1);
    expectContiguous(all);
    expect(hashes(all)).toEqual(expected());
  });

  it("replays a finished agent and ends; callbacks never run inside subscribe()", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(`console.log("one"); console.error("two");`) });
    await waitFor(() => m.get(a.id).state === "exited", 10_000, "exit");
    let inside = true;
    let calledInside = false;
    const sub = collect(m, a.id, 1, () => {
      if (inside) calledInside = true;
    });
    inside = false;
    const info = await sub.ended;
    expect(calledInside).toBe(false);
    expect(textOf(sub.chunks, 1)).toBe("one\n");
    expect(textOf(sub.chunks, 2)).toBe("two\n");
    expect(info.nextSeq).toBe(sub.chunks.length + 1);

    // From the end: no chunks, just onEnd.
    const atEnd = collect(m, a.id, info.nextSeq);
    expect((await atEnd.ended).state).toBe("exited");
    expect(atEnd.chunks).toEqual([]);
  });

  it("a subscriber that throws is cut off with onError; others keep going", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(WRITER) });
    const bad = collect(m, a.id, 1, () => {
      throw new Error("consumer bug");
    });
    const good = collect(m, a.id, 1);
    await expect(bad.ended).rejects.toThrow("consumer bug");
    await good.ended;
    expect(hashes(good.chunks)).toEqual(expected());
  });

  it("follows a long-running agent across its stop", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(`let i = 0; setInterval(() => console.log("t" + i++), 10);`) });
    const sub = collect(m, a.id, 1);
    await waitFor(() => sub.chunks.length >= 5, 10_000, "5 chunks");
    await m.stop(a.id);
    const info = await sub.ended;
    expect(info.state).toBe("killed");
    expectContiguous(sub.chunks);
    expect(sub.chunks.length).toBe(info.nextSeq - 1);
  });
});
