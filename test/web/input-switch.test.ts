/**
 * Issue 16, the daemon's input kill switch in the browser app — one mechanism (src/web/access.ts + the access
 * notices): `paseo daemon input off` (input.json) shows a standing notice and disables the send controls of an open
 * agent; `on` hides it and the controls work again. The app learns the switch from ServerInfo.inputEnabled: the
 * welcome when the page opens, then the 5 s server.info poll while it is open. Real daemon, relay and Chromium.
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
  it("off before the page opens (welcome): a notice and disabled send controls; on (poll): gone, sending works", async () => {
    const agent = await stack.daemon.agents.run({ argv: nodeAgent("process.stdin.resume()"), name: "reader" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await writeInputFile(stack.home, false); // off before the page opens: the welcome says so
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.waitForSelector(".input-off", { state: "visible" });
      expect(await page.locator(".input-off").innerText()).toMatch(/paseo daemon input on/);
      expect(await page.getAttribute(".screen", "data-input-off")).toBe("");
      await page.click(`.agent[data-id="${agent.id}"] .agent-open`);
      await page.waitForSelector('.agent-view[data-state="running"]');
      expect(await page.isDisabled(".input-line")).toBe(true);
      expect(await page.isDisabled('.input-form button[type="submit"]')).toBe(true);
      expect(await page.isVisible('button[data-action="stop"]')).toBe(true); // stopping is not input

      await writeInputFile(stack.home, true); // seen at the next server.info poll (every 5 s)
      await page.waitForSelector(".input-off", { state: "hidden", timeout: 12_000 });
      expect(await page.getAttribute(".screen", "data-input-off")).toBeNull();
      expect(await page.isEnabled(".input-line")).toBe(true);
      await page.fill(".input-line", "hello");
      await page.click('.input-form button[type="submit"]');
      await page.waitForFunction(() => (document.querySelector(".input-line") as HTMLInputElement).value === "");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await stack.daemon.agents.stop(agent.id).catch(() => undefined);
    }
  }, 40_000);

  it("off while the page is open (poll): the open agent's input line is disabled at once, on again restores it", async () => {
    const agent = await stack.daemon.agents.run({
      argv: nodeAgent(`process.stdin.on("data", (d) => process.stdout.write("got " + d));`),
      name: "echo",
    });
    const { page, problems, context } = await newPage(browser!);
    try {
      await writeInputFile(stack.home, true);
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.click(`.agent[data-id="${agent.id}"] .agent-open`);
      await page.waitForSelector(".input-line:not([disabled])");
      expect(await page.isVisible(".input-off")).toBe(false);
      await writeInputFile(stack.home, false);
      await page.waitForSelector(".input-off", { state: "visible", timeout: 12_000 });
      expect(await page.isDisabled(".input-line")).toBe(true);
      await writeInputFile(stack.home, true);
      await page.waitForSelector(".input-off", { state: "hidden", timeout: 12_000 });
      await page.waitForSelector(".input-line:not([disabled])");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await stack.daemon.agents.stop(agent.id).catch(() => undefined);
    }
  }, 40_000);
});
