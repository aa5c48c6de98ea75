/**
 * Issue 12, "CLI speed": the CLI runs from dist/cli/main.js (the bin: answers --version alone) and dist/cli/paseo.cjs
 * (one bundle), both CommonJS, built by scripts/build-cli.js, and evaluates only what the command line needs. These
 * tests watch what the real CLI process loads and runs — an ES module load hook, the CommonJS cache and the built-in
 * modules at exit, and V8's own coverage of which module initialisers ran (NODE_V8_COVERAGE) — never its timing,
 * which `npm run bench` reports:
 * - `paseo --version` reads neither the bundle nor commander nor ws;
 * - `paseo ls` runs from the two files alone (no tsc output, nothing from node_modules) and never initialises the
 *   daemon, the relay, the daemon/relay/pair commands or noble's curves and ciphers;
 * - the command table in src/cli/commands/index.ts names exactly what each module registers;
 * - paths computed from import.meta.url still work when bundled (the relay serves the built web app), and both
 *   files have source maps pointing into src/.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_MODULES, modulesFor } from "../../src/cli/commands/index.js";
import { PASEO_VERSION } from "../../src/version.js";
import { CLI, ROOT, killAll, startDaemonProcess, startRelayProcess } from "../e2e/harness.js";

const BIN = join(ROOT, "dist/cli/main.js");
const BUNDLE = join(ROOT, "dist/cli/paseo.cjs");
let dir: string;

/** Preload for the CLI process: records every file: URL the ESM loader loads, and at exit the CommonJS cache and
 * the built-in modules (commander and ws are CommonJS inside the bundle: they show up as built-ins they require). */
const HOOKS = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.startsWith("file:")) appendFileSync(process.env.PASEO_TEST_TRACE + ".esm", url + "\\n");
  return next(url, context);
}`;
const REGISTER = `
import { register, createRequire } from "node:module";
import { writeFileSync } from "node:fs";
register(${JSON.stringify("./hooks.mjs")}, import.meta.url);
const Module = createRequire(import.meta.url)("node:module");
process.on("exit", () => {
  writeFileSync(process.env.PASEO_TEST_TRACE + ".exit", JSON.stringify({
    cjs: Object.keys(Module._cache),
    builtins: process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)),
  }));
});`;

interface Trace {
  code: number;
  stdout: string;
  stderr: string;
  /** Files loaded as ES modules (paths). */
  esm: string[];
  cjs: string[];
  builtins: string[];
  /** Module initialisers of the bundle that ran (esbuild names each after its input: "src/…", "node_modules/…"). */
  initialised: string[];
}

let traces = 0;
function traced(args: string[], env: Record<string, string> = {}): Promise<Trace> {
  const trace = join(dir, `trace-${++traces}`);
  const coverage = `${trace}.coverage`;
  return new Promise((res) => {
    execFile(
      process.execPath,
      ["--import", pathToFileURL(join(dir, "register.mjs")).href, CLI, ...args],
      {
        env: { ...process.env, PASEO_RELAY_OFFER: "", ...env, PASEO_TEST_TRACE: trace, NODE_V8_COVERAGE: coverage },
        timeout: 20_000,
      },
      (err, stdout, stderr) => {
        const esm = existsSync(`${trace}.esm`)
          ? readFileSync(`${trace}.esm`, "utf8")
              .trim()
              .split("\n")
              .map((u) => fileURLToPath(u))
          : [];
        const exit = JSON.parse(readFileSync(`${trace}.exit`, "utf8")) as { cjs: string[]; builtins: string[] };
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        res({
          code,
          stdout,
          stderr,
          esm: esm.filter((p) => !p.startsWith(dir)),
          ...exit,
          initialised: initialisers(coverage),
        });
      },
    );
  });
}

function initialisers(coverageDir: string): string[] {
  const names: string[] = [];
  for (const file of existsSync(coverageDir) ? readdirSync(coverageDir) : []) {
    const { result } = JSON.parse(readFileSync(join(coverageDir, file), "utf8")) as {
      result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
    };
    for (const script of result.filter((r) => r.url === pathToFileURL(BUNDLE).href)) {
      for (const fn of script.functions)
        if (/^(src|\S*node_modules)\//.test(fn.functionName) && fn.ranges[0]!.count > 0) names.push(fn.functionName);
    }
  }
  return names;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "paseo-bundle-test-"));
  writeFileSync(join(dir, "hooks.mjs"), HOOKS);
  writeFileSync(join(dir, "register.mjs"), REGISTER);
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bundled CLI loads only what the command needs", () => {
  it("--version: prints the version from the bin alone", async () => {
    const t = await traced(["--version"]);
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(`${PASEO_VERSION}\n`);
    expect(t.esm.filter((p) => p !== BIN)).toEqual([]); // (the hook sees the entry: --import routes it through the ESM loader)
    expect(t.cjs).toEqual([BIN]);
    expect(t.builtins).not.toContain("child_process"); // commander
    expect(t.builtins).not.toContain("http"); // ws
  });

  it("ls through the relay: the bundle alone, without the daemon, the relay or the noble curves", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const offerFile = join(dir, "offer.txt");
    writeFileSync(offerFile, daemon.link!, { mode: 0o600 });
    const t = await traced(["ls", "--relay", offerFile]);
    expect(t.stderr).toBe("");
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/no agents/i);
    // Every module came from the two files: no tsc output (a second copy of the error classes), no package.
    expect(t.esm.filter((p) => p !== BIN)).toEqual([]); // (the hook sees the entry: --import routes it through the ESM loader)
    expect(t.cjs).toEqual([BIN, BUNDLE]);
    // What ran: the client, ws and the native backend; not the daemon, the relay or noble's curves and ciphers.
    // (a package's name is its path from the repository: it may be hoisted or linked elsewhere)
    for (const input of [
      "src/cli/commands/client.ts",
      "node_modules/ws/lib/websocket.js",
      "src/protocol/crypto/native.ts",
    ]) {
      expect(
        t.initialised.some((n) => n.endsWith(input)),
        input,
      ).toBe(true);
    }
    const notForLs =
      /^src\/(daemon\/(?!home\.ts$|home-safety\.ts$|runtime-files\.ts$)|relay\/|cli\/commands\/(daemon|daemon-run|pair|relay)\.ts$)|@noble\/(curves|ciphers)/;
    expect(t.initialised.filter((n) => notForLs.test(n))).toEqual([]);
    // Source maps next to both files, mapping back into src/.
    for (const file of [BIN, BUNDLE]) {
      const map = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources: string[] };
      const ours = map.sources.filter((s) => s.startsWith("../../src/")).map((s) => resolve(dirname(file), s));
      expect(ours.length).toBeGreaterThan(0);
      for (const source of ours) expect(existsSync(source), source).toBe(true);
    }
    await daemon.stop();
    await relay.stop();
  }, 30_000);

  it("the relay started from the bundle still finds and serves the built web app (--serve-app)", async () => {
    const relay = await startRelayProcess(0, ["--serve-app"]);
    const res = await fetch(`http://${relay.endpoint}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<html/i);
    await relay.stop();
  }, 20_000);
});

describe("the command table (src/cli/commands/index.ts)", () => {
  it("names exactly the top-level commands each module registers", async () => {
    const seen = new Set<string>();
    for (const m of COMMAND_MODULES) {
      const program = new Command();
      (await m.load()).register(program);
      const names = program.commands.map((c) => c.name());
      expect(names).toEqual([...m.commands]);
      for (const n of names) {
        expect(seen.has(n), `${n} registered twice`).toBe(false);
        seen.add(n);
      }
    }
  });

  it("loads one module for a known command, all of them otherwise", () => {
    const argv = (...args: string[]) => ["node", "paseo", ...args];
    expect(modulesFor(argv("ls", "-a"))).toEqual([COMMAND_MODULES[0]]);
    expect(modulesFor(argv("daemon", "start", "--relay", "x"))).toEqual(
      COMMAND_MODULES.filter((m) => m.commands.includes("daemon")),
    );
    expect(modulesFor(argv("--help"))).toBe(COMMAND_MODULES);
    expect(modulesFor(argv())).toBe(COMMAND_MODULES);
    expect(modulesFor(argv("help", "ls"))).toBe(COMMAND_MODULES);
    expect(modulesFor(argv("no-such-command"))).toBe(COMMAND_MODULES);
  });
});
