import { spawn } from "node:child_process";
import { appendFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { procStartTime } from "../../../src/daemon/agents/agent-process.js";
import type { AgentInfo } from "../../../src/daemon/agents/index.js";
import {
  cleanup,
  expectContiguous,
  isAlive,
  newManager,
  node,
  readAll,
  tempDir,
  textOf,
  trackPid,
  waitFor,
} from "./helpers.js";

afterEach(cleanup);

/** Encode one log record as documented in log-file.ts. */
function record(seq: number, fd: 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const h = Buffer.alloc(13);
  h.writeBigUInt64BE(BigInt(seq), 0);
  h[8] = fd;
  h.writeUInt32BE(data.length, 9);
  return Buffer.concat([h, data]);
}

async function writeLeftover(
  dir: string,
  id: string,
  info: Partial<AgentInfo>,
  procStart: string | null,
  log: Buffer,
): Promise<void> {
  await mkdir(join(dir, id), { recursive: true });
  const full: AgentInfo = {
    id,
    name: "old",
    argv: ["old"],
    cwd: "/",
    pid: 999_999,
    state: "running",
    exitCode: null,
    signal: null,
    startedAt: "2024-01-01T00:00:00.000Z",
    endedAt: null,
    nextSeq: 1,
    bytes: 0,
    ...info,
  };
  await writeFile(
    join(dir, id, "meta.json"),
    JSON.stringify({ v: 1, info: full, owner: "999999/deadbeef", procStart, log: null }),
  );
  await writeFile(join(dir, id, "output.log"), log);
}

describe("persistence", () => {
  it("ended agents and their logs survive a manager restart; seqs continue, files are private", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir });
    const a = await m1.run({
      argv: node(`for (let i = 0; i < 50; i++) console.log("row " + i); process.exit(7)`),
      env: { PASEO_SECRET_TOKEN: "hunter2-do-not-store" },
    });
    await waitFor(() => m1.get(a.id).state === "exited", 10_000, "exit");
    const before = m1.get(a.id);
    const logsBefore = await readAll(m1, a.id);
    await m1.close();

    const meta = await readFile(join(dir, a.id, "meta.json"), "utf8");
    expect(meta).not.toContain("hunter2");
    expect((await stat(join(dir, a.id, "meta.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, a.id, "output.log"))).mode & 0o777).toBe(0o600);

    const m2 = await newManager({ dir });
    expect(m2.list()).toEqual([]);
    expect(m2.list({ all: true })).toEqual([before]);
    expect(m2.get(a.id)).toMatchObject({ state: "exited", exitCode: 7 });
    const logsAfter = await readAll(m2, a.id, 64);
    expect(logsAfter).toEqual(logsBefore);
    expectContiguous(logsAfter);
    expect(textOf(logsAfter)).toBe(Array.from({ length: 50 }, (_, i) => `row ${i}\n`).join(""));
  });

  it("agents still running at close() keep running; the next manager re-adopts them (same pid), every line once", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir, stopGraceMs: 200 });
    const a = await m1.run({ argv: node(`let i = 0; setInterval(() => console.log("n " + i++), 5)`) });
    await waitFor(async () => textOf(await readAll(m1, a.id)).includes("n 20\n"), 10_000, "n 20");
    const events: AgentInfo[] = [];
    m1.on("agent", (i) => events.push(i));
    await m1.close();
    expect(events).toEqual([]); // detaching is not an end
    expect(await isAlive(a.pid!)).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // output keeps going while no manager is there

    const m2 = await newManager({ dir });
    expect(m2.get(a.id)).toMatchObject({ state: "running", pid: a.pid });
    expect(m2.list().map((x) => x.id)).toEqual([a.id]);
    const text = await waitFor(
      async () => {
        const t = textOf(await readAll(m2, a.id));
        return /n 150\n/.test(t) ? t : null;
      },
      15_000,
      "n 150",
    );
    const lines = text.split("\n").filter(Boolean);
    lines.forEach((l, i) => {
      expect(l).toBe(`n ${i}`);
    });
    expectContiguous(await readAll(m2, a.id));
    const stopped = await m2.stop(a.id, 1000);
    expect(stopped).toMatchObject({ state: "killed", signal: "SIGTERM", reason: "stopped" });
    expect(await isAlive(a.pid!)).toBe(false);
  });

  it("an agent that ends while no manager is there is recorded with its real exit status", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir });
    const a = await m1.run({
      argv: node(`console.log("start"); setTimeout(() => { console.log("bye"); process.exit(5) }, 400)`),
    });
    await m1.close();
    await waitFor(async () => !(await isAlive(a.pid!)), 10_000, "the agent to end");
    await waitFor(
      async () => {
        try {
          return (await stat(join(dir, a.id, "exit.json"))).size > 0;
        } catch {
          return false;
        }
      },
      10_000,
      "exit.json",
    );
    const m2 = await newManager({ dir });
    expect(m2.get(a.id)).toMatchObject({ state: "exited", exitCode: 5, signal: null });
    expect(textOf(await readAll(m2, a.id))).toBe("start\nbye\n");
  });

  it("an agent whose host was SIGKILLed along with its program is lost, with a reason, after the next open", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir });
    const a = await m1.run({ argv: node(`console.log("up"); setInterval(() => {}, 1000)`), tty: true });
    await waitFor(async () => textOf(await readAll(m1, a.id)).includes("up"), 10_000, "up");
    const meta = JSON.parse(await readFile(join(dir, a.id, "meta.json"), "utf8"));
    const hostPid = meta.host.pid as number;
    await m1.close();
    process.kill(hostPid, "SIGKILL");
    process.kill(-a.pid!, "SIGKILL");
    await waitFor(async () => !(await isAlive(hostPid)) && !(await isAlive(a.pid!)), 5000, "host and program to die");

    const m2 = await newManager({ dir });
    const info = m2.get(a.id);
    expect(info).toMatchObject({ state: "lost", exitCode: null, signal: null });
    expect(info.reason).toMatch(/host process \(pid \d+\) and the program \(pid \d+\) are gone/);
    expect(m2.list()).toEqual([]);
    expect(textOf(await readAll(m2, a.id))).toContain("up");
    const persisted = JSON.parse(await readFile(join(dir, a.id, "meta.json"), "utf8"));
    expect(persisted.info.state).toBe("lost");
  });

  it("a host killed while the manager is connected: the agent becomes lost at once and its program is terminated", async () => {
    const dir = join(await tempDir(), "agents");
    const m = await newManager({ dir });
    const a = await m.run({
      argv: node(`process.on("SIGHUP", () => {}); console.log("up"); setInterval(() => {}, 1000)`),
    });
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("up"), 10_000, "up");
    const hostPid = JSON.parse(await readFile(join(dir, a.id, "meta.json"), "utf8")).host.pid as number;
    process.kill(hostPid, "SIGKILL");
    const info = await waitFor(() => (m.get(a.id).state !== "running" ? m.get(a.id) : null), 10_000, "lost");
    expect(info.state).toBe("lost");
    expect(info.reason).toMatch(/program \(pid \d+\) was terminated/);
    await waitFor(async () => !(await isAlive(a.pid!)), 5000, "the orphaned program to be terminated");
  });

  it("a record persisted while its host was starting (no pid yet) is adopted by the pid the host reports", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir });
    const a = await m1.run({ argv: node(`console.log("up"); setInterval(() => {}, 1000)`) });
    await m1.close();
    // What a daemon that died between spawning the host and learning the pid leaves behind.
    const metaPath = join(dir, a.id, "meta.json");
    const rec = JSON.parse(await readFile(metaPath, "utf8"));
    await writeFile(metaPath, JSON.stringify({ ...rec, procStart: null, info: { ...rec.info, pid: null } }));
    const m2 = await newManager({ dir });
    expect(m2.get(a.id)).toMatchObject({ state: "running", pid: a.pid });
    expect(JSON.parse(await readFile(metaPath, "utf8")).info.pid).toBe(a.pid);
    await m2.close();
    // Same provisional record, but its host is gone too: lost, saying so.
    const rec2 = JSON.parse(await readFile(metaPath, "utf8"));
    process.kill(rec2.host.pid, "SIGKILL");
    process.kill(-a.pid!, "SIGKILL");
    await waitFor(async () => !(await isAlive(rec2.host.pid)), 5000, "the host to die");
    await writeFile(metaPath, JSON.stringify({ ...rec2, procStart: null, info: { ...rec2.info, pid: null } }));
    const m3 = await newManager({ dir });
    expect(m3.get(a.id)).toMatchObject({ state: "lost" });
    expect(m3.get(a.id).reason).toMatch(/stopped while starting it/);
  });

  it("a record from before agent hosts, left running, becomes lost; its torn tail is cut", async () => {
    const dir = join(await tempDir(), "agents");
    const good = Buffer.concat([record(1, 1, "hello "), record(2, 2, "oops"), record(3, 1, "world\n")]);
    const torn = record(4, 1, "this record was cut by kill -9").subarray(0, 20);
    await writeLeftover(dir, "abcdefgh", {}, null, Buffer.concat([good, torn]));

    const m = await newManager({ dir });
    const info = m.get("abcdefgh");
    expect(info).toMatchObject({ state: "lost", signal: null, exitCode: null, nextSeq: 4, bytes: 16 });
    expect(info.reason).toMatch(/without agent hosts/);
    expect(info.endedAt).not.toBeNull();
    expect(m.list()).toEqual([]);
    expect((await stat(join(dir, "abcdefgh", "output.log"))).size).toBe(good.length);
    const chunks = await readAll(m, "abcdefgh");
    expect(chunks.map((c) => [c.seq, c.fd, Buffer.from(c.data).toString()])).toEqual([
      [1, 1, "hello "],
      [2, 2, "oops"],
      [3, 1, "world\n"],
    ]);
    const persisted = JSON.parse(await readFile(join(dir, "abcdefgh", "meta.json"), "utf8"));
    expect(persisted.info).toMatchObject({ state: "lost", nextSeq: 4 });
    // A follower gets the history and an immediate end.
    const ended = await new Promise<AgentInfo>((res, rej) => m.subscribe("abcdefgh", 2, () => {}, res, rej));
    expect(ended.state).toBe("lost");
  });

  it("kills a leftover (pre-host) agent process that outlived its daemon (same pid and start time), not a stranger", async () => {
    const dir = join(await tempDir(), "agents");
    const orphan = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
    await new Promise((r) => orphan.once("spawn", r));
    const pid = orphan.pid!;
    trackPid(pid);
    await writeLeftover(dir, "orphanaa", { pid }, procStartTime(pid), Buffer.alloc(0));
    // Same pid but a different start time: must be left alone.
    const stranger = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      detached: true,
      stdio: "ignore",
    });
    await new Promise((r) => stranger.once("spawn", r));
    trackPid(stranger.pid!);
    await writeLeftover(dir, "strangrr", { pid: stranger.pid! }, "1", Buffer.alloc(0));

    const m = await newManager({ dir });
    expect(m.get("orphanaa")).toMatchObject({ state: "lost", nextSeq: 1 });
    expect(m.get("strangrr")).toMatchObject({ state: "lost" });
    await waitFor(async () => !(await isAlive(pid)), 5000, "orphan to die");
    expect(await isAlive(stranger.pid!)).toBe(true);
  });

  it("repairs a torn tail on an ended agent's log (summary mismatch) and skips unreadable records", async () => {
    const dir = join(await tempDir(), "agents");
    const m1 = await newManager({ dir });
    const a = await m1.run({ argv: node(`console.log("complete")`) });
    await waitFor(() => m1.get(a.id).state === "exited", 10_000, "exit");
    await m1.close();
    const logFile = join(dir, a.id, "output.log");
    const size = (await stat(logFile)).size;
    await appendFile(logFile, Buffer.from([0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0]));
    await mkdir(join(dir, "brokenaa"));
    await writeFile(join(dir, "brokenaa", "meta.json"), "{ not json");
    const logs: string[] = [];
    const m2 = await newManager({ dir, log: (level, msg) => logs.push(`${level}: ${msg}`) });
    expect(textOf(await readAll(m2, a.id))).toBe("complete\n");
    expect((await stat(logFile)).size).toBe(size);
    expect(m2.list({ all: true }).map((x) => x.id)).toEqual([a.id]);
    expect(logs.some((l) => l.startsWith("warn: skipping agent brokenaa"))).toBe(true);
    expect(logs.some((l) => l.includes("torn tail"))).toBe(true);
  });
});
