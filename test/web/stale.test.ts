/**
 * Issue 12 item 11: the app never shows a lost connection as live, and a link that cannot work gets one clear page.
 * - the relay goes away mid-session: states read "last seen …", Stop / Send / New agent are disabled, a notice says
 *   since when; when it is back, everything is live and enabled again;
 * - a revoked link (at open, or revoked while the page is open and the connection then drops) shows one page with
 *   the reason and the next step said once — no dashboard, no "New agent".
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfferStore } from "../../src/daemon/offer-store.js";
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

/** How often the next step's instruction appears in what the user can read. */
async function timesSaid(page: Page, text: string): Promise<number> {
  const visible = await page.locator("body").innerText();
  return visible.split(text).length - 1;
}

async function expectOneFailurePage(page: Page, code: string, title: RegExp): Promise<void> {
  const banner = page.locator(`.pair-page .banner[data-code="${code}"]`);
  await banner.waitFor({ timeout: 10_000 });
  expect(await banner.locator(".error-title").innerText()).toMatch(title);
  // One page: the dashboard (and its enabled "New agent") is gone, the instruction is said once.
  expect(await page.locator(".screen, .agents, button[data-action='new']").count()).toBe(0);
  expect(await timesSaid(page, "paseo daemon pair")).toBe(1);
  expect(await page.locator(".error-block").count()).toBe(1);
  // The way forward is right there: a field for the new link.
  expect(await page.isVisible('input[name="link"]')).toBe(true);
}

describe.skipIf(SKIP_BROWSER)("connection lost and dead links", () => {
  it("relay stopped mid-session: the state is marked stale and actions are disabled until reconnected", async () => {
    const sleeper = await stack.daemon.agents.run({ argv: nodeAgent("setTimeout(() => {}, 60000)"), name: "sleeper" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.click(`.agent[data-id="${sleeper.id}"] .agent-open`);
      await page.waitForSelector('.agent-view[data-state="running"]');
      const stop = page.locator('.agent-view button[data-action="stop"]');
      const newAgent = page.locator('button[data-action="new"]');
      expect(await stop.isEnabled()).toBe(true);
      expect(await newAgent.isEnabled()).toBe(true);
      expect(await page.locator(".stale-notice").isVisible()).toBe(false);

      await stack.restartRelay(async () => {
        await page.waitForSelector('.screen[data-connection="stale"]', { timeout: 5000 });
        await page.waitForSelector(".stale-notice", { state: "visible" });
        expect(await page.locator(".stale-notice").innerText()).toMatch(
          /Not connected — showing the last known state \(as of \d\d:\d\d:\d\d\)/,
        );
        // Nothing reads as live …
        expect(await page.locator(`.agent[data-id="${sleeper.id}"] .badge`).innerText()).toBe("last seen running");
        expect(await page.locator(".agent-view .card-head .badge").innerText()).toBe("last seen running");
        // … and nothing can be pressed that would need the daemon.
        expect(await stop.isDisabled()).toBe(true);
        expect(await newAgent.isDisabled()).toBe(true);
        expect(await page.isDisabled(".input-line")).toBe(true);
        expect(await page.isDisabled('.input-form button[type="submit"]')).toBe(true);
        // Stays so while the relay is down (a retry does not flip it back).
        await page.waitForTimeout(600);
        expect(await stop.isDisabled()).toBe(true);
      });

      await page.waitForSelector('.screen[data-connection="live"]', { timeout: 15_000 });
      await page.waitForSelector(".stale-notice", { state: "hidden" });
      expect(await page.locator(`.agent[data-id="${sleeper.id}"] .badge`).innerText()).toBe("running");
      expect(await stop.isEnabled()).toBe(true);
      expect(await newAgent.isEnabled()).toBe(true);
      expect(await page.isEnabled(".input-line")).toBe(true);
      // The form opened while stale follows the connection too.
      await newAgent.click();
      expect(await page.isEnabled('.new-agent button[type="submit"]')).toBe(true);
      expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
    } finally {
      await context.close();
      await stack.daemon.agents.stop(sleeper.id).catch(() => undefined);
    }
  });

  it("a revoked link shows one page: why, and the next step once", async () => {
    const revoked = await stack.pair();
    await new OfferStore(stack.home).revokeOffer(revoked.offerId);
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(revoked.link);
      await expectOneFailurePage(page, "OFFER_REVOKED", /was revoked/);
      // The library's full message is still one click away.
      await page.click(".error-more summary");
      expect(await page.locator(".error-more .error-detail").innerText()).toMatch(/revoked/);
      expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a link revoked while the page is open: when the connection drops, the same one page", async () => {
    const link = await stack.pair();
    const { page, context } = await newPage(browser!);
    try {
      await page.goto(link.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await new OfferStore(stack.home).revokeOffer(link.offerId);
      await stack.restartRelay();
      await expectOneFailurePage(page, "OFFER_REVOKED", /was revoked/);
    } finally {
      await context.close();
    }
  });
});
