/**
 * `npm run relay:worker -- --port P` (scripts/relay-worker.js): starts the Worker relay under workerd, prints its ws
 * URL like `paseo relay` prints its endpoint, answers /health, and stops on SIGTERM taking workerd with it.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../scripts/relay-worker.js");
const started: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

describe("npm run relay:worker", () => {
  it("prints the ws URL, serves /health, and exits on SIGTERM", async () => {
    const proc = spawn(process.execPath, [SCRIPT, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    started.push(proc);
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/relay URL: (ws:\/\/\S+)/.test(out)) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no relay URL printed: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const wsUrl = /relay URL: (ws:\/\/\S+)/.exec(out)![1]!;
    expect(out).toContain(`paseo daemon start --relay ${wsUrl}`);
    expect(out).toMatch(/relay endpoint for offers: 127\.0\.0\.1:\d+ \(tls: false\)/);
    const health = await fetch(`${wsUrl.replace("ws://", "http://")}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", daemons: 0 });
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    // 0 from our handler, or 143 (128 + SIGTERM) when miniflare's own exit hook, which also stops workerd, wins.
    expect([0, 143]).toContain(await exited);
    await expect(fetch(`${wsUrl.replace("ws://", "http://")}/health`)).rejects.toThrow();
  });
});
