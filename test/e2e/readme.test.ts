/**
 * The README's commands run as written (issue 12, item 2): the setup block and every "$ " command of the Install
 * and Walkthrough sections (see readme-commands.ts), in order, each through `sh -c` exactly as printed, in a fresh
 * temporary HOME (so `~/paseo-offer.json` and the default `~/.paseo` live there) with no PASEO_* variables. Each
 * must exit 0 and print the lines the README shows under it (loosely: see linePattern).
 *
 * `paseo` is resolved the way the README's setup makes it: `npm link` puts a `paseo` executable on PATH that runs
 * package.json's `bin`. This test does not run `npm link` itself (it would write to npm's global prefix, shared by
 * every checkout on the machine); it puts a shim named `paseo` first on PATH that runs this checkout's `bin` entry
 * with this Node — what the link does. `npm install` and `npm test` are not re-run either: this test runs inside
 * an installed checkout, as part of `npm test`. .ci/run runs the literal setup, `npm link` included.
 *
 * `paseo daemon start` runs in the foreground in the README (terminal 1): here it runs in the background; the
 * next command starts once the lines the README shows for it are printed, and it must have exited 0 by the end
 * (the walkthrough stops it with `paseo daemon stop`).
 *
 * PORT 7431: the walkthrough uses the embedded relay's default address 127.0.0.1:7431 because that is what a reader
 * gets. This is the one test that uses that port (all others use ephemeral ports); it needs 7431 free and fails
 * saying so if it is not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { linePattern, missingLines, parseReadme, type ReadmeStep } from "./readme-commands.js";

const ROOT = join(import.meta.dirname, "..", "..");
const README_PORT = 7431;
/** What the README's setup block must say: the emulation below stands for exactly these steps. */
const SETUP = ["npm install", "npm link", "npm test"];

const home = mkdtempSync(join(tmpdir(), "paseo-readme-"));
const background: ChildProcess[] = [];

afterAll(async () => {
  for (const p of background) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 2000));
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    }
  }
  rmSync(home, { recursive: true, force: true });
});

/** A directory holding `paseo`, standing for what `npm link` adds to PATH (see the header). */
function linkShim(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = pkg.bin.paseo;
  if (!bin) throw new Error("package.json has no bin.paseo: the README's `paseo` commands cannot work");
  const dir = join(home, ".shim");
  mkdirSync(dir);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(join(dir, "paseo"), `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(ROOT, bin))} "$@"\n`);
  chmodSync(join(dir, "paseo"), 0o755);
  return dir;
}

function env(shim: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${shim}:${process.env.PATH ?? ""}` };
  for (const k of Object.keys(e)) if (k.startsWith("PASEO_")) delete e[k];
  return e;
}

interface Running {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `sh -c <command>` with stderr merged into stdout, in the order a terminal would show them. */
function shell(command: string, e: NodeJS.ProcessEnv): Running {
  const proc = spawn("/bin/sh", ["-c", `exec 2>&1\n${command}`], {
    cwd: home,
    env: e,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, output: () => out, exited };
}

/** Failure messages quote output; never put a pairing link in them. */
const redact = (s: string) => s.replace(/#offer=\S+/g, "#offer=<redacted>");

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const isForeground = (s: ReadmeStep) => /^paseo daemon start\b/.test(s.command);

describe("README: the setup and walkthrough commands run as written", () => {
  const readme = parseReadme(readFileSync(join(ROOT, "README.md"), "utf8"));

  it("the setup block is the one this test emulates (npm install, npm link, npm test)", () => {
    expect(readme.setup).toEqual(SETUP);
    expect(readme.steps.length).toBeGreaterThan(5);
  });

  it("no run step needs a terminal: interactive examples (`paseo attach`) live outside Install and Walkthrough", () => {
    // sh -c gives no TTY, so `paseo attach` would only fail with NOT_A_TTY. README's "## Terminals" section shows
    // them and says it is not run here; test/e2e/attach.test.ts drives them through a real PTY instead.
    expect(
      readme.steps.filter((s) => /(^|[;&|]\s*)paseo attach\b/.test(s.command)).map((s) => `README.md:${s.line}`),
    ).toEqual([]);
  });

  it("the comparison is loose only where runs differ (ids, numbers, times, shortened links)", () => {
    expect(linePattern("started agent 6abmh45o (build, pid 16758)").test("started agent tubiecnk (build, pid 3)")).toBe(
      true,
    );
    expect(linePattern("started agent 6abmh45o (build, pid 16758)").test("started agent tubiecnk (test, pid 3)")).toBe(
      false,
    );
    expect(linePattern("  http://127.0.0.1:7431/#offer=…").test("  http://127.0.0.1:7431/#offer=eyJ2Ijoz")).toBe(true);
    expect(linePattern("  http://127.0.0.1:7431/#offer=…").test("  http://10.0.0.1:7431/#offer=eyJ2Ijoz")).toBe(false);
    expect(linePattern("ID  NAME   STATUS").test("ID        NAME   STATUS")).toBe(true);
    expect(linePattern("step 1").test("step 2")).toBe(false);
    expect(
      linePattern("6abmh45o  build  exited(0)  16758  3s ago").test("tubiecnk  build  exited(1)  99  0s ago"),
    ).toBe(false);
    expect(
      linePattern("6abmh45o  build  exited(0)  16758  3s ago").test("tubiecnk  build  exited(0)  99  0s ago"),
    ).toBe(true);
    expect(missingLines(["step 1", "step 2", "step 3"], "step 1\nstep 2\nstep 3\n")).toEqual([]);
    expect(missingLines(["step 1", "step 2", "step 3"], "step 2\nstep 1\nstep 3\n")).toEqual(["step 2"]);
    expect(missingLines(["step 1", "step 3"], "step 1\n")).toEqual(["step 3"]);
  });

  it("each command exits 0 and prints what the README shows", { timeout: 50_000 }, async () => {
    if (!(await portIsFree(README_PORT))) {
      throw new Error(
        `127.0.0.1:${README_PORT} is in use: this test runs the README's walkthrough, whose daemon starts the embedded relay on that port. Stop whatever listens there.`,
      );
    }
    const e = env(linkShim());
    const daemons: { step: ReadmeStep; run: Running }[] = [];
    // The README's run had HOME=/home/me; this one has its own.
    const shown = (step: ReadmeStep) => step.expected.map((l) => l.split("/home/me").join(home));
    for (const step of readme.steps) {
      const where = `README.md:${step.line}: $ ${step.command}`;
      const run = shell(step.command, e);
      if (isForeground(step)) {
        background.push(run.proc);
        daemons.push({ step, run });
        const deadline = Date.now() + 15_000;
        while (missingLines(shown(step), run.output()).length > 0) {
          if (run.proc.exitCode !== null || Date.now() > deadline) {
            throw new Error(
              `${where}\ndid not print, while running:\n${missingLines(shown(step), run.output()).join("\n")}\noutput:\n${redact(run.output())}`,
            );
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        continue;
      }
      const timer = setTimeout(() => run.proc.kill("SIGKILL"), 20_000);
      const code = await run.exited;
      clearTimeout(timer);
      expect(code, `${where}\nexit code ${code}; output:\n${redact(run.output())}`).toBe(0);
      const missing = missingLines(shown(step), run.output());
      expect(
        missing,
        `${where}\nthe README shows lines the run did not print; output:\n${redact(run.output())}`,
      ).toEqual([]);
    }
    // The walkthrough ends by stopping its daemon; a foreground daemon still running here is a README bug.
    for (const { step, run } of daemons) {
      const code = await Promise.race([
        run.exited,
        new Promise<"running">((r) => setTimeout(() => r("running"), 10_000)),
      ]);
      expect(
        code,
        `README.md:${step.line}: $ ${step.command} — should have been stopped by the walkthrough, and exit 0`,
      ).toBe(0);
    }
  });
});
