import { appendFile, readFile, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogFile, MAX_RECORD_DATA } from "../../../src/daemon/agents/log-file.js";
import { Subscription } from "../../../src/daemon/agents/subscription.js";
import type { AgentInfo, OutputChunk } from "../../../src/daemon/agents/index.js";
import { cleanup, expectContiguous, tempDir, waitFor } from "./helpers.js";

afterEach(cleanup);

const quiet = (): void => undefined;
const payload = (seq: number): Buffer => Buffer.from(`chunk ${seq} ${"z".repeat(seq % 300)}|`);

async function filled(n: number): Promise<{ path: string; lf: LogFile }> {
  const path = join(await tempDir(), "output.log");
  const lf = LogFile.create(path, quiet);
  for (let s = 1; s <= n; s++) lf.append(s % 3 === 0 ? 2 : 1, payload(s));
  return { path, lf };
}

async function readAllFrom(lf: LogFile, since: number, maxBytes: number): Promise<OutputChunk[]> {
  const out: OutputChunk[] = [];
  for (;;) {
    const r = await lf.read(since, maxBytes);
    out.push(...r.chunks);
    since = r.nextSeq;
    if (!r.more) return out;
  }
}

describe("LogFile", () => {
  it("reads from any seq via the sparse index, in bounded batches", async () => {
    const { lf } = await filled(1000);
    expect(lf.nextSeq).toBe(1001);
    for (const since of [1, 2, 63, 64, 65, 128, 129, 500, 999, 1000, 1001]) {
      const chunks = await readAllFrom(lf, since, 2000);
      expect(chunks.length).toBe(1001 - since);
      expectContiguous(chunks, since);
      for (const c of chunks) expect(Buffer.from(c.data).equals(payload(c.seq))).toBe(true);
      expect(chunks.every((c) => c.fd === (c.seq % 3 === 0 ? 2 : 1))).toBe(true);
    }
    const one = await lf.read(10, 1);
    expect(one.chunks.length).toBe(1); // at least one chunk even past maxBytes
    expect(one).toMatchObject({ nextSeq: 11, more: true });
  });

  it("splits writes larger than a record", async () => {
    const path = join(await tempDir(), "output.log");
    const lf = LogFile.create(path, quiet);
    const big = Buffer.alloc(MAX_RECORD_DATA * 2 + 5, 7);
    lf.append(1, big);
    expect(lf.nextSeq).toBe(4);
    const chunks = await readAllFrom(lf, 1, 1 << 20);
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(big)).toBe(true);
  });

  it("loads a sealed log lazily when the summary matches, and scans otherwise", async () => {
    const { path, lf } = await filled(300);
    lf.seal();
    const lazy = await LogFile.load(path, lf.summary(), quiet);
    expect(lazy.nextSeq).toBe(301);
    expect((await readAllFrom(lazy, 200, 500)).length).toBe(101);
    const scanned = await LogFile.load(path, null, quiet);
    expect(scanned.summary()).toEqual(lf.summary());
    const missing = await LogFile.load(join(path, "..", "nope.log"), null, quiet);
    expect(missing.nextSeq).toBe(1);
    expect((await missing.read(1)).chunks).toEqual([]);
  });

  for (const [label, damage] of [
    ["a partial header", (_size: number, path: string) => appendFile(path, Buffer.from([0, 0, 0]))],
    ["a length past EOF", (size: number, path: string) => truncate(path, size - 3)],
    [
      "a wrong seq",
      (_size: number, path: string) => appendFile(path, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0, 0])),
    ],
    [
      "a bad fd",
      (_size: number, path: string) => appendFile(path, Buffer.from([0, 0, 0, 0, 0, 0, 0, 51, 7, 0, 0, 0, 0])),
    ],
  ] as const) {
    it(`repairs a torn tail: ${label}`, async () => {
      const { path, lf } = await filled(50);
      lf.seal();
      const size = (await stat(path)).size;
      await damage(size, path);
      const warnings: string[] = [];
      const repaired = await LogFile.load(path, lf.summary(), (_l, m) => warnings.push(m));
      const keep = label === "a length past EOF" ? 49 : 50;
      expect(repaired.nextSeq).toBe(keep + 1);
      const chunks = await readAllFrom(repaired, 1, 1 << 20);
      expectContiguous(chunks);
      expect(chunks.length).toBe(keep);
      expect(warnings.join()).toMatch(/torn tail/);
      expect((await readFile(path)).length).toBeLessThanOrEqual(size);
    });
  }

  it("subscriptions racing a fast writer: exact, no gap, no duplicate, with pauses", async () => {
    const { lf } = await filled(0);
    const total = 20_000;
    const info = (): AgentInfo => ({ nextSeq: lf.nextSeq }) as AgentInfo;
    const results: Promise<OutputChunk[]>[] = [];
    const start = (since: number, pauseEvery: number): void => {
      results.push(
        new Promise((resolve, reject) => {
          const got: OutputChunk[] = [];
          const sub = new Subscription(
            lf,
            since,
            {
              onChunk: (c) => {
                got.push(c);
                if (pauseEvery && c.seq % pauseEvery === 0) {
                  sub.pause();
                  setTimeout(() => sub.resume(), 1);
                }
              },
              onEnd: () => resolve(got),
              onError: reject,
            },
            info,
            quiet,
          );
        }),
      );
    };
    let seq = 1;
    const starts = new Map([
      [0, [1, 0]],
      [3000, [1, 97]],
      [7000, [2500, 0]],
      [12000, [11999, 13]],
      [19990, [5, 0]],
    ]);
    while (seq <= total) {
      const burst = 1 + Math.floor(Math.random() * 200);
      for (let i = 0; i < burst && seq <= total; i++, seq++) {
        const s = starts.get(seq - 1);
        if (s) start(s[0]!, s[1]!);
        lf.append(1, payload(seq));
      }
      await new Promise((r) => setImmediate(r));
    }
    lf.seal();
    const all = await Promise.all(results);
    const sinces = [1, 1, 2500, 11999, 5];
    all.forEach((got, i) => {
      expectContiguous(got, sinces[i]);
      expect(got.length).toBe(total - sinces[i]! + 1);
      expect(got.filter((c) => !Buffer.from(c.data).equals(payload(c.seq))).map((c) => c.seq)).toEqual([]);
    });
  });

  it("subscription modes: replay from disk, then live (synchronous hand-over), paused = nothing buffered", async () => {
    const { lf } = await filled(10);
    const got: number[] = [];
    let ended = false;
    const sub = new Subscription(
      lf,
      4,
      { onChunk: (c) => got.push(c.seq), onEnd: () => (ended = true) },
      () => ({}) as AgentInfo,
      quiet,
    );
    expect(got).toEqual([]); // never inside the constructor / subscribe()
    await waitFor(() => got.length === 7, 5000, "replay");
    expect(got).toEqual([4, 5, 6, 7, 8, 9, 10]);
    lf.append(1, payload(11));
    expect(got.at(-1)).toBe(11); // live: delivered within append()
    sub.pause();
    for (let s = 12; s <= 15; s++) lf.append(1, payload(s));
    await new Promise((r) => setTimeout(r, 20));
    expect(got.at(-1)).toBe(11);
    expect(sub.nextSeq).toBe(12);
    sub.resume();
    lf.append(2, payload(16)); // appended while the resumed subscription still replays 12..15 from disk
    await waitFor(() => got.length === 13, 5000, "catch-up");
    expect(got).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    lf.append(1, payload(17));
    expect(got.at(-1)).toBe(17);
    expect(ended).toBe(false);
    lf.seal();
    expect(ended).toBe(true);
    sub.unsubscribe();
  });
});
