/**
 * The daemon's input kill switch as the app shows it (issue 16; ServerInfo.inputEnabled comes from branch audit):
 * input.json turned off → a standing notice, the pipe agent's input line disabled, the terminal's keys not sent;
 * turned on again → all back. Real relay + daemon, real Chromium. Skipped by name until the daemon has the switch.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPage, nodeAgent, removeHomes, SKIP_BROWSER, startBrowserAndStack, type Stack } from "./helpers.js";

const HAS_SWITCH = existsSync(join(import.meta.dirname, "../../src/daemon/audit-log.ts"));
const SKIP = SKIP_BROWSER || !HAS_SWITCH;

let browser: Browser | undefined;
let stack: Stack;

beforeAll(async () => {
  if (!SKIP) ({ browser, stack } = await startBrowserAndStack());
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

/** input.json as `paseo daemon input off|on` writes it (the daemon watches the file). */
async function setInput(enabled: boolean): Promise<void> {
  await writeFile(
    join(stack.home, "input.json"),
    JSON.stringify({ inputEnabled: enabled, changedAt: new Date().toISOString() }),
    { mode: 0o600 },
  );
}

describe.skipIf(SKIP)("browser: the input kill switch", () => {
  it("input off shows a notice and disables typing; on again restores it", async () => {
    await stack.daemon.agents.run({
      argv: nodeAgent(
        `process.stdout.write("ks-ready\\n"); process.stdin.on("data", (d) => process.stdout.write("got " + d));`,
      ),
      name: "ks-pipe",
    });
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.click('.agent[data-name="ks-pipe"] .agent-open');
      await page.waitForSelector(".input-line:not([disabled])");
      await setInput(false);
      // The app learns it from ServerInfo (welcome or the 5 s server.info poll).
      await page.waitForSelector('[data-notice="input-off"]:not([hidden])', { timeout: 12_000 });
      expect(await page.getAttribute(".screen", "data-input-off")).toBe("");
      expect(await page.isDisabled(".input-line")).toBe(true);
      expect(await page.isVisible('button[data-action="stop"]')).toBe(true); // stopping is not input
      await setInput(true);
      await page.waitForSelector('[data-notice="input-off"][hidden]', { state: "attached", timeout: 12_000 });
      await page.waitForSelector(".input-line:not([disabled])");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 40_000);
});
