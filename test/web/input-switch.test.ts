/**
 * Issue 16, input kill switch in the browser app: `paseo daemon input off` (input.json) shows a one-line notice and
 * disables the send controls of an open agent; `on` hides it and the controls work again. Real daemon, relay and
 * Chromium; the app learns the switch from ServerInfo.inputEnabled (welcome, then server.info every 5 s).
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeInputFile } from "../../src/daemon/input-switch.js";
import { newPage, nodeAgent, removeHomes, SKIP_BROWSER, startBrowserAndStack, type Stack } from "./helpers.js";

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

describe.skipIf(SKIP_BROWSER)("input kill switch in the app", () => {
  it("off: a notice and disabled send controls; on: gone, controls enabled", async () => {
    const agent = await stack.daemon.agents.run({ argv: nodeAgent("process.stdin.resume()"), name: "reader" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await writeInputFile(stack.home, false); // off before the page opens: the welcome says so
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.waitForSelector(".input-off", { state: "visible" });
      expect(await page.locator(".input-off").innerText()).toMatch(/paseo daemon input on/);
      await page.click(`.agent[data-id="${agent.id}"] .agent-open`);
      await page.waitForSelector('.agent-view[data-state="running"]');
      expect(await page.isDisabled(".input-line")).toBe(true);
      expect(await page.isDisabled('.input-form button[type="submit"]')).toBe(true);

      await writeInputFile(stack.home, true); // seen at the next server.info poll (every 5 s)
      await page.waitForSelector(".input-off", { state: "hidden", timeout: 12_000 });
      expect(await page.isEnabled(".input-line")).toBe(true);
      await page.fill(".input-line", "hello");
      await page.click('.input-form button[type="submit"]');
      await page.waitForFunction(() => (document.querySelector(".input-line") as HTMLInputElement).value === "");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await stack.daemon.agents.stop(agent.id).catch(() => undefined);
    }
  });
});
