/**
 * Issue 16, the browser side: a v4 link (an enrollment ticket) opens to "Enroll this device as …" and spends nothing
 * until the tap (no WebSocket at all, the offer's uses unchanged); the tap enrolls, and the code the page shows is the
 * one in the daemon's devices.json; "remember" keeps the device key (not the link) and a visit without a link
 * connects as the device; a read-only device gets watch-only views; a revoked device gets one page saying what to do.
 * Real relay + daemon in this process, real Chromium, the relay's strict CSP.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPairing } from "../../src/daemon/index.js";
import { OfferStore } from "../../src/daemon/offer-store.js";
import { DaemonClient, parseOffer, RpcError } from "../../src/index.js";
import { newPage, nodeAgent, removeHomes, SKIP_BROWSER, startBrowserAndStack, waitFor, type Stack } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");
const SKIP = SKIP_BROWSER;
const TICKET_TTL_MS = 15 * 60_000;

let browser: Browser | undefined;
let stack: Stack;

beforeAll(async () => {
  if (!SKIP) ({ browser, stack } = await startBrowserAndStack());
});

/** A v4 ticket as `paseo daemon pair [--read-only]` makes it: single use, 15 minutes. */
async function ticket(options: { label: string; readOnly?: boolean }): Promise<{ link: string; offerId: string }> {
  const p = await createPairing({
    home: stack.home,
    relay: { endpoint: `127.0.0.1:${stack.port}`, tls: false },
    label: options.label,
    ticket: true,
    once: true,
    ttlMs: TICKET_TTL_MS,
    ...(options.readOnly ? { rights: "read-only" as const } : {}),
  });
  expect(parseOffer(p.link).v).toBe(4);
  return { link: p.link, offerId: p.record.id };
}

/** The real CLI (dist/cli/main.js: `npm run build`) on the test daemon's home; returns stdout. */
async function paseo(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args], {
    env: { ...process.env, PASEO_HOME: stack.home },
    timeout: 15_000,
  });
  return stdout;
}

/** `paseo daemon devices revoke <id>`. */
async function revokeDevice(id: string): Promise<void> {
  await paseo("daemon", "devices", "revoke", id);
}
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

interface DeviceRecordOnDisk {
  id: string;
  label: string;
  rights: string;
  sas: string;
  offerId: string;
  state: string;
}

async function devicesOnDisk(): Promise<DeviceRecordOnDisk[]> {
  try {
    return (JSON.parse(await readFile(join(stack.home, "devices.json"), "utf8")) as { devices: DeviceRecordOnDisk[] })
      .devices;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

async function usesOf(offerId: string): Promise<number> {
  const offer = (await new OfferStore(stack.home).listOffers()).find((o) => o.id === offerId);
  if (!offer) throw new Error(`offer ${offerId} not found`);
  return offer.uses;
}

/** Every WebSocket the page opens (there must be none before the tap). */
function countSockets(page: Page): { readonly count: number } {
  const seen = { count: 0 };
  page.on("websocket", () => seen.count++);
  return seen;
}

/** What this origin's IndexedDB holds, as JSON text (to check the link's secret is not in it). */
function storedDevices(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const req = indexedDB.open("paseo");
        req.onerror = () => reject(new Error("open failed"));
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains("devices")) return resolve("[]");
          const all = db.transaction("devices").objectStore("devices").getAll();
          all.onsuccess = () => resolve(JSON.stringify(all.result));
          all.onerror = () => reject(new Error("read failed"));
        };
      }),
  );
}

async function enroll(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.waitForSelector(".enroll-page");
  await page.click('button[data-action="enroll"]');
  await page.waitForSelector('.state[data-state="connected"]');
  await page.waitForSelector(".device[data-just-enrolled] .sas");
}

describe.skipIf(SKIP)("browser: enrollment, remembered devices, rights", () => {
  it("a ticket is not spent by opening the link; the tap enrolls and shows the daemon's code", async () => {
    const t = await ticket({ label: "phone" });
    // A link previewer (or mail scanner) loads the page in its own headless browser and goes away without a tap.
    const previewer = await newPage(browser!);
    const previewSockets = countSockets(previewer.page);
    try {
      await previewer.page.goto(t.link);
      await previewer.page.waitForSelector(".enroll-page");
      expect(await previewer.page.textContent(".enroll-title")).toBe("Enroll this device as phone");
      expect(await previewer.page.textContent(".enroll .fingerprint")).toBe(stack.daemon.identity.fingerprint);
      expect(await previewer.page.evaluate(() => location.hash)).toBe("");
      // Give the page time to do anything it might do on its own.
      await previewer.page.waitForTimeout(1500);
      expect(previewSockets.count).toBe(0);
      expect(await usesOf(t.offerId)).toBe(0);
      expect(await devicesOnDisk()).toEqual([]);
      expect(previewer.problems).toEqual([]);
    } finally {
      await previewer.context.close();
    }

    // The same single-use ticket still works for the person it was meant for: a fresh browser, a tap.
    const { page, problems, context } = await newPage(browser!);
    const sockets = countSockets(page);
    try {
      await page.goto(t.link);
      await page.waitForSelector(".enroll-page");
      await page.waitForTimeout(300);
      expect(sockets.count).toBe(0);
      await page.click('button[data-action="enroll"]');
      await page.waitForSelector('.state[data-state="connected"]');
      const sas = await page.locator(".device[data-just-enrolled] .sas").innerText();
      expect(sas).toMatch(/^\d{3}-\d{3}$/);
      const deviceId = await page.locator(".device .device-id").innerText();
      const [record] = await devicesOnDisk();
      expect(record).toMatchObject({ id: deviceId, sas, rights: "control", label: "phone", state: "active" });
      // …and what the daemon's owner sees: `paseo daemon devices --json` shows the same code for this device.
      const listed = JSON.parse(await paseo("daemon", "devices", "--json")) as Array<{ id: string; sas: string }>;
      expect(listed.find((d) => d.id === deviceId)?.sas).toBe(sas);
      expect(await page.textContent(".sas-compare")).toContain("paseo daemon devices");
      expect(await page.getAttribute(".screen", "data-rights")).toBe("control");
      expect(await usesOf(t.offerId)).toBe(1);

      // Remembered (the default): the device key is stored, the link's secret is not.
      const stored = await storedDevices(page);
      expect(JSON.parse(stored)).toMatchObject([{ serverId: stack.daemon.identity.serverId, deviceId, sas }]);
      expect(stored).not.toContain(parseOffer(t.link).secretB64);

      // Without a link, the one remembered daemon connects at once, as the device (the spent ticket is not needed).
      await page.goto(`${stack.relay.url}/`);
      await page.waitForSelector('.state[data-state="connected"]');
      expect(await page.locator(".device .device-id").innerText()).toBe(deviceId);
      expect(await page.locator(".device .sas").innerText()).toBe(sas);
      expect(await usesOf(t.offerId)).toBe(1);

      // Forget: the key leaves storage and the next visit shows the pairing page.
      await page.click('button[data-action="switch"]');
      await page.click(`.remembered li[data-device-id="${deviceId}"] button:has-text("Forget")`);
      await waitFor(async () => (await storedDevices(page)) === "[]", 5000, "the device key to be forgotten");
      await page.goto(`${stack.relay.url}/`);
      await page.waitForSelector(".pair-page");
      await page.waitForTimeout(500);
      expect(await page.locator(".screen").count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a read-only device watches: no New agent, Stop, input line or Take control", async () => {
    await stack.daemon.agents.run({
      argv: nodeAgent(`process.stdout.write("pipe-ready\\n"); setInterval(() => {}, 1000);`),
      name: "ro-pipe",
    });
    await stack.daemon.agents.run({
      argv: nodeAgent(`process.stdout.write("tty-ready\\r\\n"); setInterval(() => {}, 1000);`),
      name: "ro-tty",
      tty: true,
    });
    const t = await ticket({ label: "watcher", readOnly: true });
    const { page, problems, context } = await newPage(browser!);
    try {
      await enroll(page, t.link);
      expect(await page.getAttribute(".screen", "data-rights")).toBe("read-only");
      expect(await page.isVisible('.topbar .rights-badge[data-rights="read-only"]')).toBe(true);
      expect(await page.isVisible('[data-notice="read-only"]')).toBe(true);
      expect(await page.locator(".device .rights-badge").innerText()).toBe("read-only");
      expect((await devicesOnDisk()).find((d) => d.label === "watcher")?.rights).toBe("read-only");
      await page.waitForSelector('.agent[data-name="ro-pipe"]');
      expect(await page.isVisible('button[data-action="new"]')).toBe(false);

      await page.click('.agent[data-name="ro-pipe"] .agent-open');
      await page.waitForFunction(() =>
        /pipe-ready/.test(document.querySelector(".agent-view .xterm-rows")?.textContent ?? ""),
      );
      expect(await page.isVisible('button[data-action="stop"]')).toBe(false);
      expect(await page.isVisible(".input-form")).toBe(false);

      await page.click('.agent[data-name="ro-tty"] .agent-open');
      await page.waitForSelector('.agent-view[data-kind="terminal"][data-lane="watcher"]');
      await page.waitForFunction(() =>
        /tty-ready/.test(document.querySelector(".agent-view .xterm-rows")?.textContent ?? ""),
      );
      expect(await page.isVisible('button[data-action="lane"]')).toBe(false);
      expect(await page.isVisible('button[data-action="stop"]')).toBe(false);
      expect(await page.textContent(".lane-state")).toMatch(/read-only/);

      // Forced from the page (devtools: the hidden input line shown and enabled): the daemon refuses, the app says why.
      await page.click('.agent[data-name="ro-pipe"] .agent-open');
      await page.waitForSelector('.agent-view[data-kind="pipe"][data-state="running"]');
      await page.evaluate(() => {
        const form = document.querySelector<HTMLFormElement>(".input-form")!;
        form.hidden = false;
        for (const c of form.querySelectorAll<HTMLInputElement | HTMLButtonElement>("input, button"))
          c.disabled = false;
      });
      await page.fill(".input-line", "let me in");
      await page.click('.input-form button[type="submit"]');
      await page.waitForSelector('.agent-view .inline-errors .error-block[data-code="FORBIDDEN"]', { timeout: 10_000 });

      // Forced with the device key itself (what the browser stored): run, send and stop are FORBIDDEN, list is fine.
      const [stored] = JSON.parse(await storedDevices(page)) as Array<{
        serverId: string;
        daemonPublicKeyB64: string;
        relay: { endpoint: string; tls: boolean };
        deviceKeyB64: string;
      }>;
      const asDevice = new DaemonClient({
        device: {
          serverId: stored!.serverId,
          daemonPublicKeyB64: stored!.daemonPublicKeyB64,
          relay: stored!.relay,
          deviceKeyB64: stored!.deviceKeyB64,
        },
      });
      try {
        const listedAgents = await asDevice.listAgents();
        const pipe = listedAgents.find((a) => a.name === "ro-pipe")!;
        expect(asDevice.session).toMatchObject({ kind: "device", rights: "read-only" });
        const codeOf = (p: Promise<unknown>) =>
          p.then(
            () => "ok",
            (err: unknown) => (err instanceof RpcError ? err.code : String(err)),
          );
        expect(await codeOf(asDevice.stopAgent(pipe.id))).toBe("FORBIDDEN");
        expect(await codeOf(asDevice.sendInput(pipe.id, "x"))).toBe("FORBIDDEN");
        expect(await codeOf(asDevice.runAgent({ argv: nodeAgent("0") }))).toBe("FORBIDDEN");
        expect((await asDevice.getAgent(pipe.id)).state).toBe("running");
      } finally {
        asDevice.close();
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a revoked device gets one page that says to ask for a new link, and the browser forgets its key", async () => {
    const t = await ticket({ label: "to-revoke" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await enroll(page, t.link);
      const deviceId = await page.locator(".device .device-id").innerText();
      // Revoked while connected: the daemon ends the live session at once (encrypted CLOSE 4114).
      await revokeDevice(deviceId);
      const banner = page.locator('.pair-page .banner[data-code="DEVICE_REVOKED"]');
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.locator(".error-title").innerText()).toMatch(/revoked/);
      expect(await banner.locator(".error-next").innerText()).toMatch(/new link/);
      expect(await page.textContent(".forgotten")).toMatch(/forgot its key/);
      expect(await storedDevices(page)).toBe("[]");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
