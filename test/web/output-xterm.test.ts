/**
 * Issue 14, browser: a pipe agent's output renders like a terminal (xterm.js, read-only) — ANSI colours (16, 256
 * and 24-bit), `\r` progress redrawn in place — under the relay's strict CSP with zero console errors: xterm's
 * run-time styles go through adopted stylesheets and the CSSOM (scripts/xterm-csp.js), never `<style>` or style
 * attributes, and its stylesheet is bundled into app.css (no CDN).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — plain JS build helper without type declarations
import { rewriteXterm } from "../../scripts/xterm-csp.js";
import { newPage, nodeAgent, removeHomes, SKIP_BROWSER, startBrowserAndStack, type Stack } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");

// Colours three ways, a progress line redrawn with \r, and stderr.
const COLOURFUL = nodeAgent(
  [
    `process.stdout.write("\\x1b[31mred-16\\x1b[0m \\x1b[38;5;34mgreen-256\\x1b[0m \\x1b[38;2;10;20;250mblue-24bit\\x1b[0m\\n");`,
    `let i = 0; const t = setInterval(() => { process.stdout.write("\\rprogress " + (++i * 25) + "%"); if (i === 4) { clearInterval(t); process.stdout.write("\\ndone\\n"); console.error("warn-on-stderr"); setTimeout(() => {}, 60000); } }, 30);`,
  ].join(" "),
);

let browser: Browser | undefined;
let stack: Stack;

beforeAll(async () => {
  if (!SKIP_BROWSER) ({ browser, stack } = await startBrowserAndStack());
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

describe("xterm CSP rewrite (build step)", () => {
  it("rewrites every <style> element and style attribute in @xterm/xterm, and refuses a changed xterm", async () => {
    const source = await readFile(join(ROOT, "node_modules/@xterm/xterm/lib/xterm.mjs"), "utf8");
    const out = rewriteXterm(source) as string;
    expect(out).not.toMatch(/createElement\("style"\)|setAttribute\("style"/);
    expect(out.match(/createElement\("paseo-xterm-style"\)/g)).toHaveLength(3);
    expect(() => rewriteXterm(source.replace('createElement("style")', "createElement('style')"))).toThrow(
      /expected 3 match/,
    );
  });

  it("the built app bundles xterm's JS and CSS and contains no inline-style call", async () => {
    const app = await readFile(join(ROOT, "dist/web/app.js"), "utf8");
    const css = await readFile(join(ROOT, "dist/web/app.css"), "utf8");
    expect(app).toContain("paseo-xterm-style");
    expect(app).not.toMatch(/createElement\(["']style["']\)|setAttribute\(["']style["']/);
    expect(css).toContain(".xterm-helper-textarea");
    // One file each: nothing is fetched at run time (no @import left, no CDN URL).
    expect(css).not.toContain("@import");
    expect(app + css).not.toMatch(/\b(?:cdn|unpkg|jsdelivr)\b/i);
  });
});

describe.skipIf(SKIP_BROWSER)("pipe output in a read-only xterm", () => {
  it("renders colours and \\r like a terminal, with no CSP violation or console error", async () => {
    const agent = await stack.daemon.agents.run({ argv: COLOURFUL, name: "colourful" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(stack.link);
      await page.click(`.agent[data-id="${agent.id}"] .agent-open`);
      const rows = page.locator(".agent-view .output .xterm-rows");
      await page.waitForFunction(() =>
        document.querySelector(".agent-view .output .xterm-rows")?.textContent?.includes("warn-on-stderr"),
      );
      const lines = (await rows.innerText()).split("\n").map((l) => l.replace(/\s+$/, ""));
      // \r redrew the progress line in place: only its last state is on screen.
      expect(lines.filter((l) => l.startsWith("progress"))).toEqual(["progress 100%"]);
      expect(lines.slice(0, 4)).toEqual(["red-16 green-256 blue-24bit", "progress 100%", "done", "warn-on-stderr"]);
      const colour = (text: string) =>
        page.evaluate((t) => {
          const span = [...document.querySelectorAll(".agent-view .output .xterm-rows span")].find(
            (s) => s.textContent === t,
          );
          return span ? getComputedStyle(span).color : "missing";
        }, text);
      // 16-colour red (xterm's default palette), 256-colour 34 = #00af00, 24-bit through the CSSOM rewrite.
      expect(await colour("red-16")).toBe("rgb(204, 0, 0)");
      expect(await colour("green-256")).toBe("rgb(0, 175, 0)");
      expect(await colour("blue-24bit")).toBe("rgb(10, 20, 250)");
      expect(await colour("warn-on-stderr")).toBe("rgb(255, 135, 135)");
      // xterm's run-time CSS (fonts, theme) is applied — through adopted stylesheets, not <style> elements.
      const styling = await page.evaluate(() => ({
        styleElements: document.querySelectorAll("style").length,
        adopted: document.adoptedStyleSheets.length,
        whiteSpace: getComputedStyle(document.querySelector(".agent-view .output .xterm-rows")!).whiteSpace,
      }));
      expect(styling).toEqual({ styleElements: 0, adopted: 3, whiteSpace: "pre" });
      expect(problems).toEqual([]);
      // Leaving the agent removes its terminal's sheets.
      await page.click('button[data-action="new"]');
      expect(await page.evaluate(() => document.adoptedStyleSheets.length)).toBe(0);
    } finally {
      await context.close();
      await stack.daemon.agents.stop(agent.id).catch(() => undefined);
    }
  });
});
