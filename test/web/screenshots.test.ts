/**
 * Screenshots of the app's main views for the README (docs/screenshots/*.png), desktop and phone widths.
 * Not part of the normal run: `PASEO_SCREENSHOTS=1 npx vitest run test/web/screenshots.test.ts`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { newPage, removeHomes, startBrowserAndStack, tempHome, type Stack } from "./helpers.js";

const OUT = join(import.meta.dirname, "../../docs/screenshots");
const ENABLED = process.env.PASEO_SCREENSHOTS === "1";

// Stand-ins for real tools, so the screenshots show realistic command lines.
const CLAUDE = `#!/usr/bin/env node
const lines = [
  "Reading src/client/daemon-client.ts",
  "Reading src/client/logs.ts",
  "Plan: add an AbortSignal to logs() so a view can stop following at once.",
  "Editing src/client/logs.ts (+8 -0)",
  "Running npx vitest run test/client",
  " ✓ test/client/logs.test.ts (12 tests) 184ms",
  " ✓ test/client/daemon-client.test.ts (21 tests) 402ms",
  "All tests passed. Waiting for your review — reply 'ok' to commit.",
];
let i = 0;
const t = setInterval(() => { console.log(lines[i++]); if (i === lines.length) clearInterval(t); }, 40);
process.stdin.on("data", (d) => console.log("> " + String(d).trim()));
`;
const VITE = `#!/bin/sh
echo "  VITE v7.1.3  ready in 412 ms"; echo "  ➜  Local:   http://127.0.0.1:5173/"; exec sleep 600
`;

let browser: Browser | undefined;
let stack: Stack;

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(OUT, `${name}.png`) });
}

describe.skipIf(!ENABLED)("screenshots for docs/screenshots", () => {
  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    ({ browser, stack } = await startBrowserAndStack());
    const bin = join(await tempHome(), "bin");
    await mkdir(bin);
    await writeFile(join(bin, "claude"), CLAUDE, { mode: 0o755 });
    await writeFile(join(bin, "vite"), VITE, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const run = (name: string, line: string) => stack.daemon.agents.run({ argv: [line], name, shell: true, env, cwd: tmpdir() });
    await run("typecheck", "echo 'src/app.ts(12,7): error TS2345: Argument of type string is not assignable.' >&2; exit 2");
    await run("unit-tests", "echo 'Test Files  31 passed (31)'; echo '     Tests  312 passed (312)'");
    await run("dev-server", "vite --port 5173");
    await run("review-agent", "claude --continue");
    await new Promise((r) => setTimeout(r, 600));
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await removeHomes();
  });

  for (const [device, size] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844, mobile: true }],
  ] as const) {
    it(`${device}: agents, output, new agent, pairing`, async () => {
      const { page, context } = await newPage(browser!, size);
      try {
        await page.goto(stack.link);
        await page.waitForSelector('.state[data-state="connected"]');
        await page.waitForSelector('.metric[data-metric="memory"] .metric-value:not(:text("–"))');
        await shot(page, `${device}-agents`);
        await page.click('.agent[data-name="review-agent"] .agent-open');
        await page.waitForFunction(() => document.querySelector(".output")?.textContent?.includes("reply 'ok'"));
        if (device === "desktop") {
          await page.fill(".input-line", "ok");
          await page.press(".input-line", "Enter");
          await page.waitForFunction(() => document.querySelector(".output")?.textContent?.includes("> ok"));
        }
        await page.fill(".input-line", "also run the e2e suite");
        await shot(page, `${device}-output`);
        if (device === "desktop") {
          await page.emulateMedia({ colorScheme: "dark" });
          await shot(page, "desktop-output-dark");
          await page.emulateMedia({ colorScheme: "light" });
        }
        await page.click(device === "phone" ? ".agent-view .back" : 'button[data-action="new"]');
        if (device === "phone") await page.click('button[data-action="new"]');
        await page.fill('input[name="command"]', "claude --resume");
        await page.fill('input[name="cwd"]', "~/src/paseo");
        await shot(page, `${device}-new-agent`);
        const expired = await stack.pair({ ttlMs: 1 });
        await page.goto("about:blank");
        await new Promise((r) => setTimeout(r, 10));
        await page.goto(expired.link);
        await page.waitForSelector(".banner .error-block");
        await shot(page, `${device}-expired-link`);
      } finally {
        await context.close();
      }
    });
  }
});
