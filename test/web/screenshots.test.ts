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
// A full-screen coding agent in a terminal (raw mode, 24-bit colour, box drawing, redraws on resize): the kind of
// program the browser terminal exists for.
const CLAUDE_TUI = `#!/usr/bin/env node
const out = (s) => process.stdout.write(s);
const orange = (s) => "\\x1b[38;2;217;119;87m" + s + "\\x1b[0m";
const dim = (s) => "\\x1b[2m" + s + "\\x1b[0m";
const green = (s) => "\\x1b[32m" + s + "\\x1b[0m";
const red = (s) => "\\x1b[31m" + s + "\\x1b[0m";
let typed = "";
function box(w, lines) {
  const pad = (t, n) => t + " ".repeat(Math.max(0, n - [...t].length));
  return [orange("╭" + "─".repeat(w - 2) + "╮"), ...lines.map((l) => orange("│") + " " + pad(l, w - 4) + " " + orange("│")), orange("╰" + "─".repeat(w - 2) + "╯")];
}
function draw() {
  const cols = process.stdout.columns || 80, rows = process.stdout.rows || 24;
  const w = Math.min(cols, 72);
  const lines = [
    ...box(w, ["✻ Welcome to Claude Code!", "", "  cwd: ~/src/paseo"]),
    "",
    "> fix the flaky reconnect test",
    "",
    orange("●") + " Read(test/client/reconnect.test.ts)",
    dim("  └  Read 142 lines"),
    orange("●") + " Update(src/client/backoff.ts)",
    dim("  └  1 addition, 1 removal"),
    red("  - const jitter = Math.random();"),
    green("  + const jitter = this.random();"),
    orange("●") + " Bash(npx vitest run test/client)",
    dim("  └  ") + green("✓") + " 33 passed (2.1s)",
    "",
    orange("●") + " Jitter now comes from the client, so",
    "  the test can pin it. Commit?",
  ];
  out("\\x1b[?1049h\\x1b[H\\x1b[2J");
  const fit = (l) => { let seen = 0; return l.replace(/(\\x1b\\[[0-9;]*m)|./gu, (m, esc) => esc ? m : ++seen <= cols ? m : ""); };
  out(lines.slice(-Math.max(0, rows - 5)).map(fit).join("\\r\\n"));
  out("\\x1b[" + (rows - 3) + ";1H" + box(w, ["> " + typed]).join("\\r\\n"));
  out("\\r\\n" + dim("  ? for shortcuts") + "\\x1b[" + (rows - 2) + ";" + (5 + [...typed].length) + "H");
}
process.stdin.setRawMode(true);
process.stdin.on("data", (d) => { const s = String(d); if (s === "\\x03") { out("\\x1b[?1049l"); process.exit(130); } if (s === "\\r") typed = ""; else if (s === "\\x7f") typed = typed.slice(0, -1); else typed += s; draw(); });
process.stdout.on("resize", draw);
draw();
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
    const tuiBin = join(await tempHome(), "bin");
    await mkdir(tuiBin);
    await writeFile(join(tuiBin, "claude"), CLAUDE_TUI, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const run = (name: string, line: string) =>
      stack.daemon.agents.run({ argv: [line], name, shell: true, env, cwd: tmpdir() });
    await stack.daemon.agents.run({
      argv: ["claude"],
      name: "claude",
      shell: true,
      tty: true,
      env: { PATH: `${tuiBin}:${process.env.PATH}` },
      cwd: tmpdir(),
    });
    await run(
      "typecheck",
      "echo 'src/app.ts(12,7): error TS2345: Argument of type string is not assignable.' >&2; exit 2",
    );
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
    it(`${device}: terminal agent`, async () => {
      const { page, context } = await newPage(browser!, size);
      try {
        await page.goto(stack.link);
        await page.waitForSelector('.state[data-state="connected"]');
        await page.click('.agent[data-name="claude"] .agent-open');
        await page.waitForSelector('.agent-view[data-kind="terminal"][data-lane="writer"]');
        await page.waitForFunction(() =>
          /\? for shortcuts/.test(document.querySelector(".agent-view .xterm-rows")?.textContent ?? ""),
        );
        await page.click(".agent-view .terminal");
        await page.keyboard.press("Enter"); // a fresh prompt line
        await page.keyboard.type(device === "phone" ? "yes, and run e2e" : "yes, and run the e2e suite too");
        await page.waitForFunction(() =>
          /yes, and run/.test(document.querySelector(".agent-view .xterm-rows")?.textContent ?? ""),
        );
        await page.waitForTimeout(1000); // xterm's scrollbar fades out after activity
        await shot(page, `${device}-terminal`);
      } finally {
        await context.close();
      }
    });

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
