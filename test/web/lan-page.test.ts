/**
 * The embedded relay's LAN page (`paseo daemon start --relay-host`): a phone on the same network opens the link the
 * daemon prints, gets the app from the daemon's own relay over plain HTTP at the LAN address, and sees the agents —
 * with the start link (a bearer offer) and with an enrollment ticket from `paseo daemon pair` (tap to enroll).
 * Real daemon and CLI processes (dist/, as test/e2e), real Chromium.
 *
 * The page must be loaded from a non-loopback address of this machine to prove what a phone sees (no secure
 * context: the app must not need one); on a machine with none, the test uses 127.0.0.1 advertised with
 * --relay-advertise, as test/e2e/lan-relay.test.ts does.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli, startDaemonProcess, type DaemonProc } from "../e2e/harness.js";
import { ensureWebBuild, launchBrowser, newPage, SKIP_BROWSER } from "./helpers.js";

/** The first non-internal IPv4 address, as the daemon picks it for 0.0.0.0. */
function lanAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    const a = list?.find((i) => i.family === "IPv4" && !i.internal);
    if (a) return a.address;
  }
  return undefined;
}

const lan = lanAddress();

/**
 * Chromium logs that it ignores the relay's Cross-Origin-Opener-Policy on a plain-HTTP, non-loopback origin (COOP
 * needs a potentially trustworthy origin). The header is right for HTTPS relays and harmless here; any other console
 * error still fails the test.
 */
const COOP_IGNORED = /Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy/;
const realProblems = (problems: string[]) => problems.filter((p) => !(lan && COOP_IGNORED.test(p)));
let browser: Browser | undefined;
let daemon: DaemonProc;

beforeAll(async () => {
  if (SKIP_BROWSER) return;
  await ensureWebBuild();
  browser = await launchBrowser();
  const advertise = lan ? [] : ["--relay-advertise", "127.0.0.1"];
  daemon = await startDaemonProcess({ args: ["--relay-host", "0.0.0.0", "--relay-port", "0", ...advertise] });
  // One agent to list, started through the LAN relay with the daemon's own link (as another laptop would).
  const linkFile = join(daemon.home, "lan-link.txt");
  writeFileSync(linkFile, `${daemon.link}\n`, { mode: 0o600 });
  const run = await runCli([
    "run",
    "--relay",
    linkFile,
    "--name",
    "lan-agent",
    "--",
    process.execPath,
    "-e",
    'process.stdout.write("lan-ready\\n"); setInterval(() => {}, 1000);',
  ]);
  expect(run.code).toBe(0);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await killAll(); // the daemon, and the agent (agents outlive the daemon)
});

describe.skipIf(SKIP_BROWSER)("browser: the embedded relay's LAN page", () => {
  it("the start link, opened at the LAN address, serves the app and lists the agents", async () => {
    const host = lan ?? "127.0.0.1";
    const url = new URL(daemon.link!);
    expect(url.hostname).toBe(host);
    const { page, problems, context } = await newPage(browser!, { mobile: true });
    try {
      await page.goto(daemon.link!);
      await page.waitForSelector('.state[data-state="connected"]', { timeout: 15_000 });
      expect(new URL(page.url()).host).toBe(url.host); // the page really came from the LAN relay
      expect(await page.evaluate(() => location.hash)).toBe("");
      await page.waitForSelector('.agent[data-name="lan-agent"]');
      await page.click('.agent[data-name="lan-agent"] .agent-open');
      await page.waitForFunction(() =>
        /lan-ready/.test(document.querySelector(".agent-view .xterm-rows")?.textContent ?? ""),
      );
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 40_000);

  it("a ticket from `paseo daemon pair` enrolls on the LAN page with a tap, then lists the agents", async () => {
    const pair = await runCli(["daemon", "pair", "--home", daemon.home, "--json", "--no-qr", "--label", "phone"]);
    expect(pair.code).toBe(0);
    const link = (JSON.parse(pair.stdout) as { link: string }).link;
    expect(new URL(link).host).toBe(new URL(daemon.link!).host);
    const { page, problems, context } = await newPage(browser!, { mobile: true });
    try {
      await page.goto(link);
      await page.waitForSelector(".enroll-page");
      await page.click('button[data-action="enroll"]');
      await page.waitForSelector(".device[data-just-enrolled] .sas", { timeout: 15_000 });
      const sas = await page.locator(".device[data-just-enrolled] .sas").innerText();
      await page.waitForSelector('.agent[data-name="lan-agent"]');
      const devices = JSON.parse(
        (await runCli(["daemon", "devices", "--home", daemon.home, "--json"])).stdout,
      ) as Array<{ label: string; sas: string }>;
      expect(devices.find((d) => d.label === "phone")?.sas).toBe(sas);
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 40_000);
});
