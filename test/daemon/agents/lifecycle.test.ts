import { readdir } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { AgentError, type AgentInfo } from "../../../src/daemon/agents/index.js";
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

async function waitEnded(m: Awaited<ReturnType<typeof newManager>>, id: string): Promise<AgentInfo> {
  return waitFor(
    () => {
      const info = m.get(id);
      return info.state !== "running" ? info : null;
    },
    10_000,
    `agent ${id} to end`,
  );
}

describe("agent lifecycle", () => {
  it("records stdout and stderr exactly, with contiguous seqs, and the exit code", async () => {
    const m = await newManager();
    const events: AgentInfo[] = [];
    m.on("agent", (i) => events.push(i));
    const script = `for (let i = 0; i < 200; i++) { process.stdout.write("out " + i + "\\n"); process.stderr.write("err " + i + "\\n"); } process.exitCode = 3;`;
    const started = await m.run({ argv: node(script), name: "printer" });
    expect(started).toMatchObject({ name: "printer", state: "running", exitCode: null, signal: null, endedAt: null });
    expect(started.id).toMatch(/^[a-z2-7]{8}$/);
    expect(started.pid).toBeGreaterThan(0);
    expect(m.list().map((a) => a.id)).toContain(started.id);

    const info = await waitEnded(m, started.id);
    expect(info).toMatchObject({ state: "exited", exitCode: 3, signal: null });
    expect(info.endedAt).not.toBeNull();
    const chunks = await readAll(m, started.id, 100);
    expectContiguous(chunks);
    expect(info.nextSeq).toBe(chunks.length + 1);
    const expectOut = Array.from({ length: 200 }, (_, i) => `out ${i}\n`).join("");
    const expectErr = Array.from({ length: 200 }, (_, i) => `err ${i}\n`).join("");
    expect(textOf(chunks, 1)).toBe(expectOut);
    expect(textOf(chunks, 2)).toBe(expectErr);
    expect(info.bytes).toBe(expectOut.length + expectErr.length);
    expect(m.list()).toEqual([]);
    expect(m.list({ all: true }).map((a) => a.id)).toEqual([started.id]);
    expect(events.map((e) => e.state)).toEqual(["running", "exited"]);
  });

  it("emits running before the end even for a child that exits at once; close() is idempotent", async () => {
    const m = await newManager();
    const events: string[] = [];
    m.on("agent", (i) => events.push(`${i.id}:${i.state}`));
    const ids: string[] = [];
    for (let k = 0; k < 5; k++) ids.push((await m.run({ argv: ["true"] })).id);
    await waitFor(() => events.length === 10, 10_000, "10 events");
    for (const id of ids) expect(events.filter((e) => e.startsWith(id))).toEqual([`${id}:running`, `${id}:exited`]);
    await Promise.all([m.close(), m.close()]);
  });

  it("defaults the name and reports NOT_FOUND with a helpful message", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node("") });
    expect(a.name).toBe("node");
    expect(() => m.get("nosuchid")).toThrowError(/no agent with id "nosuchid"/);
    try {
      m.get("nosuchid");
    } catch (err) {
      expect(err).toBeInstanceOf(AgentError);
      expect((err as AgentError).code).toBe("NOT_FOUND");
    }
  });

  it("lists agents sorted by start time", async () => {
    const m = await newManager();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await m.run({ argv: node("setInterval(() => {}, 1000)") })).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(m.list().map((a) => a.id)).toEqual(ids);
  });

  it("writes input to stdin and sees the output; NOT_RUNNING after exit", async () => {
    const m = await newManager();
    const script = `process.stdin.on("data", (d) => process.stdout.write(d.toString().toUpperCase())); process.stdin.on("end", () => process.exit(0));`;
    const a = await m.run({ argv: node(script) });
    expect(await m.sendInput(a.id, Buffer.from("hello paseo\n"))).toBe(12);
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("HELLO PASEO\n"), 10_000, "echo");
    m.closeInput(a.id);
    const info = await waitEnded(m, a.id);
    expect(info).toMatchObject({ state: "exited", exitCode: 0 });
    await expect(m.sendInput(a.id, Buffer.from("x"))).rejects.toMatchObject({ code: "NOT_RUNNING" });
  });

  it("delivers large input completely (stdin backpressure)", async () => {
    const m = await newManager();
    const script = `let n = 0; process.stdin.on("data", (d) => { n += d.length; }); process.stdin.on("end", () => { console.log("total " + n); });`;
    const a = await m.run({ argv: node(script) });
    const size = 4 << 20;
    const sends = [m.sendInput(a.id, new Uint8Array(size).fill(97)), m.sendInput(a.id, new Uint8Array(10).fill(98))];
    expect(await Promise.all(sends)).toEqual([size, 10]);
    m.closeInput(a.id);
    await waitEnded(m, a.id);
    expect(textOf(await readAll(m, a.id))).toBe(`total ${size + 10}\n`);
  });

  it("stop sends SIGTERM to a normal child", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node(`console.log("ready"); setInterval(() => {}, 1000);`) });
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("ready"), 10_000, "ready");
    const t0 = Date.now();
    const info = await m.stop(a.id, 5000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(info).toMatchObject({ state: "killed", signal: "SIGTERM", exitCode: null, reason: "stopped" });
    expect(await isAlive(a.pid!)).toBe(false);
    // Idempotent on an ended agent.
    expect(await m.stop(a.id)).toEqual(info);
  });

  it("stop escalates to SIGKILL after the grace when SIGTERM is ignored", async () => {
    const m = await newManager();
    const a = await m.run({
      argv: node(`process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);`),
    });
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("ready"), 10_000, "ready");
    const t0 = Date.now();
    const info = await m.stop(a.id, 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(info).toMatchObject({ state: "killed", signal: "SIGKILL", reason: "stopped" });
  });

  it("a child that exits cleanly on SIGTERM is recorded as exited with reason stopped", async () => {
    const m = await newManager();
    const a = await m.run({
      argv: node(`process.on("SIGTERM", () => process.exit(0)); console.log("ready"); setInterval(() => {}, 1000);`),
    });
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("ready"), 10_000, "ready");
    expect(await m.stop(a.id)).toMatchObject({ state: "exited", exitCode: 0, signal: null, reason: "stopped" });
  });

  it("shell: true runs through sh, and stop kills grandchildren", async () => {
    const m = await newManager();
    const sum = await m.run({ argv: ["echo", "$((1 + 2))", "&&", "echo", "$0"], shell: true });
    await waitEnded(m, sum.id);
    expect(textOf(await readAll(m, sum.id))).toBe("3\n/bin/sh\n");
    expect(sum.name).toBe("echo");

    const a = await m.run({ argv: ["sleep 1000 & echo $!; wait"], shell: true });
    const out = await waitFor(async () => /^\d+\n/.exec(textOf(await readAll(m, a.id)))?.[0], 10_000, "grandchild pid");
    const grandchild = Number(out.trim());
    trackPid(grandchild);
    expect(await isAlive(grandchild)).toBe(true);
    await m.stop(a.id, 2000);
    await waitFor(async () => !(await isAlive(grandchild)), 5000, "grandchild to die");
  });

  it("without shell, arguments are passed verbatim (no shell expansion)", async () => {
    const m = await newManager();
    const a = await m.run({ argv: [...node("console.log(process.argv.slice(1).join('|'))"), "$HOME", "a b", "*"] });
    await waitEnded(m, a.id);
    expect(textOf(await readAll(m, a.id))).toBe("$HOME|a b|*\n");
  });

  it("passes env and cwd", async () => {
    const m = await newManager();
    const cwd = await tempDir();
    const a = await m.run({
      argv: node("console.log(process.env.PASEO_TEST_VAR + ' ' + process.cwd())"),
      cwd,
      env: { PASEO_TEST_VAR: "v1" },
    });
    await waitEnded(m, a.id);
    expect(textOf(await readAll(m, a.id))).toBe(`v1 ${cwd}\n`);
    expect(a.cwd).toBe(cwd);
  });

  it("rejects bad params, a missing cwd and a missing executable cleanly, and keeps working", async () => {
    const m = await newManager();
    await expect(m.run({ argv: [] })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.run({ argv: [""] })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.run({ argv: [1 as unknown as string] })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.run({ argv: ["ls"], cwd: "/definitely/not/here" })).rejects.toMatchObject({ code: "BAD_CWD" });
    const err = await m.run({ argv: ["paseo-no-such-command-xyz", "--flag"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: "SPAWN_FAILED" });
    expect((err as Error).message).toMatch(/paseo-no-such-command-xyz.*not found/);
    expect(m.list({ all: true })).toEqual([]);
    expect(await readdir(m.dir)).toEqual([]);
    const ok = await m.run({ argv: node("console.log('still fine')") });
    await waitEnded(m, ok.id);
    expect(textOf(await readAll(m, ok.id))).toBe("still fine\n");
  });

  it("validates since and maxBytes for readLogs", async () => {
    const m = await newManager();
    const a = await m.run({ argv: node("console.log('x')") });
    await waitEnded(m, a.id);
    await expect(m.readLogs(a.id, 0)).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.readLogs(a.id, 99)).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.readLogs(a.id, 1, 0)).rejects.toMatchObject({ code: "BAD_PARAMS" });
    expect(await m.readLogs(a.id, 2)).toEqual({ chunks: [], nextSeq: 2, more: false });
    expect(() =>
      m.subscribe(
        a.id,
        5,
        () => {},
        () => {},
      ),
    ).toThrowError(/past the end/);
  });

  it("close({ killAgents: true }) stops running agents and refuses new work", async () => {
    const m = await newManager({ stopGraceMs: 300 });
    const a = await m.run({
      argv: node(`process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);`),
    });
    await waitFor(async () => textOf(await readAll(m, a.id)).includes("ready"), 10_000, "ready");
    await m.close({ killAgents: true });
    expect(m.get(a.id)).toMatchObject({ state: "killed", signal: "SIGKILL", reason: "daemon-stopped" });
    expect(await isAlive(a.pid!)).toBe(false);
    await expect(m.run({ argv: node("") })).rejects.toMatchObject({ code: "NOT_RUNNING" });
  });
});
