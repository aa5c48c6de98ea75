/**
 * Issue "DaemonClient": the client bundle builds for the browser (esbuild, platform browser) with no Node built-ins,
 * and runs in headless Chromium to list agents through a real relay from a real daemon.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as esbuild from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenServer, type OpenServer } from "../../src/cli/open-server.js";
import { parseOffer } from "../../src/protocol/offer.js";
import { loadAppFiles } from "../../src/relay/static.js";
import {
  newPage,
  nodeAgent,
  removeHomes,
  SKIP_BROWSER,
  startBrowserAndStack,
  tempHome,
  type Stack,
} from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");

const BROWSER_OPTIONS = {
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2020",
  write: false,
  metafile: true,
  logLevel: "silent",
} as const;

function buildClient(minify: boolean) {
  return esbuild.build({ ...BROWSER_OPTIONS, entryPoints: [join(ROOT, "src/index.ts")], minify });
}

describe("browser bundle of the public API (src/index.ts)", () => {
  for (const minify of [false, true]) {
    it(`has no Node built-ins and no ws package${minify ? " (minified)" : ""}`, async () => {
      const result = await buildClient(minify);
      expect(result.errors).toEqual([]);
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs).toContain("src/client/daemon-client.ts");
      expect(inputs.filter((p) => p.startsWith("node:") || p.includes("node_modules/ws/"))).toEqual([]);
      for (const output of Object.values(result.metafile.outputs)) {
        expect(output.imports.filter((i) => i.path.startsWith("node:") || i.path === "ws")).toEqual([]);
      }
      // The Node-only modules sit behind files that package.json's `browser` field maps to nothing: no import of them.
      const text = result.outputFiles[0]!.text;
      expect(text).not.toMatch(/import\(\s*["'](?:node:[^"']+|ws)["']\s*\)/);
      expect(text).not.toMatch(/from\s*["']node:/);
    });
  }

  // What an app that depends on paseo bundles: the published dist/ (built by `npm test` before vitest runs). The
  // Node-only modules there are hidden by the dist/ entries of package.json's `browser` field.
  it("of the published package (dist/index.js) has no Node built-ins and no ws package", async () => {
    const result = await esbuild.build({ ...BROWSER_OPTIONS, entryPoints: [join(ROOT, "dist/index.js")] });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("dist/client/daemon-client.js");
    expect(inputs.filter((p) => p.startsWith("node:") || p.includes("node_modules/ws/"))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith("(disabled):")).sort()).toEqual([
      "(disabled):dist/client/node-websocket.js",
      "(disabled):dist/client/offer-file-node.js",
      "(disabled):dist/protocol/crypto/native.js",
    ]);
  });
});

describe.skipIf(SKIP_BROWSER)("DaemonClient bundle in headless Chromium", () => {
  let browser: Browser | undefined;
  let stack: Stack;
  let pageServer: OpenServer;

  beforeAll(async () => {
    ({ browser, stack } = await startBrowserAndStack({ app: false }));
    // A page of our own (no inline script: the relay's CSP forbids it) that imports the bundle and lists agents.
    const dir = join(await tempHome(), "site");
    await mkdir(dir);
    const bundle = await buildClient(true);
    await writeFile(join(dir, "paseo.js"), bundle.outputFiles[0]!.contents);
    await writeFile(
      join(dir, "index.html"),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bundle test</title><pre id="out">pending</pre><script type="module" src="test.js"></script>\n',
    );
    await writeFile(
      join(dir, "test.js"),
      `import { DaemonClient, PaseoError } from "./paseo.js";
const out = document.getElementById("out");
try {
  if (typeof process !== "undefined") throw new Error("process is defined in the page");
  const client = new DaemonClient({ offer: location.href });
  const agents = await client.listAgents({ all: true });
  const hello = agents.find((a) => a.name === "hello");
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of client.logs(hello.id)) text += decoder.decode(chunk.data, { stream: true });
  out.textContent = JSON.stringify({ ok: true, names: agents.map((a) => a.name).sort(), fingerprint: client.server.fingerprint, text, isPaseoError: new PaseoError("X", "y") instanceof Error });
  client.close();
} catch (err) {
  out.textContent = JSON.stringify({ ok: false, code: err.code, message: String(err.message) });
}
`,
    );
    // Served from another origin (`paseo open`'s loopback server: CSP connect-src = exactly the daemon's relay): the
    // page talks to the daemon's relay cross-origin, exactly as a third-party app would.
    pageServer = await startOpenServer(loadAppFiles(dir), parseOffer(stack.link));
    await stack.daemon.agents.run({ argv: nodeAgent("console.log('hello from the agent')"), name: "hello" });
    await stack.daemon.agents.run({ argv: nodeAgent("setTimeout(() => {}, 60000)"), name: "sleeper" });
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    await removeHomes();
  });

  it("lists agents and reads logs through the relay with the browser's WebSocket", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      const fragment = stack.link.slice(stack.link.indexOf("#"));
      await page.goto(`http://127.0.0.1:${pageServer.port}/${fragment}`);
      await page.waitForFunction(() => document.getElementById("out")?.textContent !== "pending");
      const result = JSON.parse((await page.textContent("#out"))!);
      expect(result, JSON.stringify(result)).toMatchObject({
        ok: true,
        names: ["hello", "sleeper"],
        isPaseoError: true,
      });
      expect(result.fingerprint).toBe(stack.daemon.identity.fingerprint);
      expect(result.text).toBe("hello from the agent\n");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
