/**
 * src/web/device-store.ts in real Chromium, on the app's own origin (IndexedDB is per origin): save, list (newest
 * first, malformed records skipped), update, forget — and the stored record is what the app connects with later.
 * The module is bundled with esbuild and evaluated through the DevTools protocol (the page's CSP blocks inline
 * scripts, not the test driver).
 */
import * as esbuild from "esbuild";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPage, removeHomes, SKIP_BROWSER, startBrowserAndStack, type Stack } from "./helpers.js";

let browser: Browser | undefined;
let stack: Stack;
let bundle: string;

beforeAll(async () => {
  if (SKIP_BROWSER) return;
  ({ browser, stack } = await startBrowserAndStack());
  const out = await esbuild.build({
    entryPoints: [join(import.meta.dirname, "../../src/web/device-store.ts")],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "deviceStore",
    platform: "browser",
    target: "es2020",
    // The bundle is strict code: its top-level var stays inside eval, so publish the module explicitly.
    footer: { js: "globalThis.deviceStore = deviceStore;" },
  });
  bundle = out.outputFiles[0]!.text;
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

describe.skipIf(SKIP_BROWSER)("device store (IndexedDB)", () => {
  it("saves, lists newest first, updates and forgets; a malformed record is skipped", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(`${stack.relay.url}/`);
      await page.waitForSelector(".pair-page");
      const result = await page.evaluate(async (code) => {
        // biome-ignore lint/security/noGlobalEval: the test driver loads the bundled module into the page
        (0, eval)(code);
        const s = (globalThis as unknown as { deviceStore: typeof import("../../src/web/device-store.js") })
          .deviceStore;
        const base = {
          daemonPublicKeyB64: "k",
          relay: { endpoint: "127.0.0.1:1", tls: false },
          deviceKeyB64: "secret-key",
          rights: "control" as const,
          label: "phone",
          sas: "123-456",
        };
        await s.saveDevice({ ...base, serverId: "a", deviceId: "da", enrolledAt: "2026-01-01T00:00:00.000Z" });
        await s.saveDevice({ ...base, serverId: "b", deviceId: "db", enrolledAt: "2026-02-01T00:00:00.000Z" });
        // A record another version (or a damaged profile) left: skipped by list, never fatal.
        await new Promise<void>((resolve, reject) => {
          const req = indexedDB.open("paseo");
          req.onsuccess = () => {
            const tx = req.result.transaction("devices", "readwrite");
            tx.objectStore("devices").put({ serverId: "bad", rights: "root" });
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(new Error("put failed"));
          };
        });
        const order = (await s.listDevices()).map((d) => d.serverId);
        await s.updateDevice("a", { rights: "read-only", name: "host-a" });
        const a = await s.getDevice("a");
        await s.updateDevice("missing", { name: "x" }); // a no-op, not an error
        await s.saveDevice({ ...base, serverId: "c", deviceId: "dc", enrolledAt: "2026-03-01T00:00:00.000Z" });
        await s.forgetDevice("c");
        const after = (await s.listDevices()).map((d) => d.serverId);
        return { order, a, after };
      }, bundle);
      expect(result.order).toEqual(["b", "a"]);
      expect(result.a).toMatchObject({
        serverId: "a",
        rights: "read-only",
        name: "host-a",
        deviceKeyB64: "secret-key",
      });
      expect(result.after).toEqual(["b", "a"]);
      // The app's pairing page lists what is stored (after a reload; two daemons: no automatic connection), with
      // rights, and its Forget removes the key from storage.
      await page.reload();
      await page.waitForSelector('.remembered li[data-device-id="da"][data-rights="read-only"]');
      expect(await page.textContent('.remembered li[data-device-id="da"] .agent-name')).toBe("host-a");
      await page.click('.remembered li[data-device-id="db"] button:has-text("Forget")');
      await page.waitForSelector('.remembered li[data-device-id="db"]', { state: "detached" });
      expect(await page.locator(".remembered li").count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
