import { afterEach, describe, expect, it } from "vitest";
import { cleanup, isAlive, newManager, node, trackPid, waitFor } from "./helpers.js";

afterEach(cleanup);

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("exec", () => {
  it("returns exit code, stdout and stderr, and is not recorded as an agent", async () => {
    const m = await newManager();
    const r = await m.exec({
      argv: node(`process.stdout.write("out"); process.stderr.write("err"); process.exitCode = 4;`),
    });
    expect(r).toMatchObject({ exitCode: 4, signal: null, truncated: false, timedOut: false });
    expect(text(r.stdout)).toBe("out");
    expect(text(r.stderr)).toBe("err");
    expect(r.stdout).toBeInstanceOf(Uint8Array);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(m.list({ all: true })).toEqual([]);
  });

  it("runs through sh with shell: true and honours cwd and env", async () => {
    const m = await newManager();
    const r = await m.exec({ argv: ['echo "$PASEO_X" && pwd'], shell: true, cwd: "/tmp", env: { PASEO_X: "hi" } });
    expect(text(r.stdout)).toBe("hi\n/tmp\n");
  });

  it("caps each stream at maxOutputBytes and reports truncation without blocking the child", async () => {
    const m = await newManager();
    const r = await m.exec({
      argv: node(`process.stdout.write("a".repeat(200000)); process.stderr.write("b".repeat(50));`),
      maxOutputBytes: 100,
    });
    expect(r.exitCode).toBe(0);
    expect(text(r.stdout)).toBe("a".repeat(100));
    expect(text(r.stderr)).toBe("b".repeat(50));
    expect(r.truncated).toBe(true);
  });

  it("times out: kills the whole process group and reports timedOut", async () => {
    const m = await newManager();
    const t0 = Date.now();
    const r = await m.exec({ argv: ["sleep 1000 & echo $!; wait"], shell: true, timeoutMs: 500 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ timedOut: true, signal: "SIGKILL", exitCode: null });
    const grandchild = Number(text(r.stdout).trim());
    expect(grandchild).toBeGreaterThan(0);
    trackPid(grandchild);
    await waitFor(async () => !(await isAlive(grandchild)), 5000, "grandchild to die");
  });

  it("rejects bad params and missing commands with named errors", async () => {
    const m = await newManager();
    await expect(m.exec({ argv: ["paseo-no-such-command-xyz"] })).rejects.toMatchObject({ code: "SPAWN_FAILED" });
    await expect(m.exec({ argv: ["true"], timeoutMs: 600_001 })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.exec({ argv: ["true"], maxOutputBytes: -1 })).rejects.toMatchObject({ code: "BAD_PARAMS" });
    await expect(m.exec({ argv: ["true"], cwd: "/no/such/dir" })).rejects.toMatchObject({ code: "BAD_CWD" });
    expect((await m.exec({ argv: ["true"] })).exitCode).toBe(0);
  });

  it("close() aborts running execs", async () => {
    const m = await newManager();
    const p = m.exec({ argv: node("setInterval(() => {}, 1000)"), timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 200));
    await m.close();
    expect(await p).toMatchObject({ signal: "SIGKILL", timedOut: false });
  });
});
