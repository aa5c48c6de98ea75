/**
 * Issue 16, a remembered device the daemon refuses at the hello (docs/protocol.md §4): revoked while the browser was
 * away (4114 DEVICE_REVOKED) → one page that says to ask for a new link, and the key is forgotten (it can never work
 * again); no longer known to the daemon (4113 DEVICE_UNKNOWN) → the same kind of page, but the key is kept, listed
 * with Forget (the user decides). Real relay + daemon, the real CLI for `paseo daemon devices revoke`, real Chromium.
 */
import { execFile } from "node:child_process";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPairing } from "../../src/daemon/index.js";
import { newPage, removeHomes, SKIP_BROWSER, startBrowserAndStack, type Stack } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");

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

async function ticketLink(label: string): Promise<string> {
  const p = await createPairing({
    home: stack.home,
    relay: { endpoint: `127.0.0.1:${stack.port}`, tls: false },
    label,
    ticket: true,
    once: true,
    ttlMs: 15 * 60_000,
  });
  return p.link;
}

/** Tap-enroll with "remember" on (the default), then leave the page: the key stays in this context's IndexedDB. */
async function enrollAndLeave(page: Page, label: string): Promise<string> {
  await page.goto(await ticketLink(label));
  await page.click('button[data-action="enroll"]');
  await page.waitForSelector(".device[data-just-enrolled] .sas");
  const deviceId = await page.locator(".device .device-id").innerText();
  await page.goto("about:blank");
  return deviceId;
}

function storedIds(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const req = indexedDB.open("paseo");
        req.onerror = () => reject(new Error("open failed"));
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains("devices")) return resolve([]);
          const all = db.transaction("devices").objectStore("devices").getAll();
          all.onsuccess = () => resolve((all.result as Array<{ deviceId: string }>).map((d) => d.deviceId));
          all.onerror = () => reject(new Error("read failed"));
        };
      }),
  );
}

describe.skipIf(SKIP_BROWSER)("browser: a remembered device the daemon refuses", () => {
  it("revoked while away: the next visit shows the re-pair page and forgets the key", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      const deviceId = await enrollAndLeave(page, "away");
      await promisify(execFile)(
        process.execPath,
        [join(ROOT, "dist/cli/main.js"), "daemon", "devices", "revoke", deviceId],
        { env: { ...process.env, PASEO_HOME: stack.home }, timeout: 15_000 },
      );
      await page.goto(`${stack.relay.url}/`); // no link: the one remembered device connects at once
      const banner = page.locator('.pair-page .banner[data-code="DEVICE_REVOKED"]');
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.locator(".error-next").innerText()).toMatch(/new link/);
      await page.waitForSelector(".forgotten");
      expect(await storedIds(page)).toEqual([]);
      expect(await page.locator(".screen").count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("unknown to the daemon: the re-pair page, the key kept and listed with Forget", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      const deviceId = await enrollAndLeave(page, "unknown");
      // The daemon's record is gone (devices.json edited, as after restoring an old backup); the daemon watches it.
      const file = join(stack.home, "devices.json");
      const db = JSON.parse(await readFile(file, "utf8")) as { devices: Array<{ id: string }> };
      db.devices = db.devices.filter((d) => d.id !== deviceId);
      await writeFile(`${file}.tmp`, JSON.stringify(db), { mode: 0o600 });
      await rename(`${file}.tmp`, file);

      await page.goto(`${stack.relay.url}/`);
      const banner = page.locator('.pair-page .banner[data-code="DEVICE_UNKNOWN"]');
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.locator(".error-title").innerText()).toMatch(/does not know this device/);
      expect(await storedIds(page)).toEqual([deviceId]);
      await page.waitForSelector(`.remembered li[data-device-id="${deviceId}"]`);
      expect(await page.locator(".forgotten").count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
