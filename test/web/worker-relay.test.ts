/**
 * The browser app through the Worker relay (src/relay-worker under workerd via miniflare). A Worker relay does not
 * serve the app (whoever serves the page can read the pairing secret it handles), so the page comes from `paseo
 * open`'s loopback server, whose CSP lets it connect to the offer's relay only — here the Worker relay. Real
 * Chromium, real daemon, real workerd.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenServer } from "../../src/cli/open-server.js";
import { type Daemon, startDaemon } from "../../src/daemon/index.js";
import { silentLogger } from "../../src/daemon/logger.js";
import { parseOffer } from "../../src/protocol/offer.js";
import { loadAppFiles } from "../../src/relay/static.js";
// @ts-expect-error plain JS launcher shared with `npm run relay:worker` and the bench
import { startWorkerRelay } from "../../scripts/relay-worker.js";
import {
  SKIP_BROWSER,
  ensureWebBuild,
  launchBrowser,
  newPage,
  nodeAgent,
  removeHomes,
  tempHome,
  waitFor,
} from "./helpers.js";

let browser: Browser | undefined;
let relay: { port: number; close(): Promise<void> } | undefined;
let daemon: Daemon | undefined;

beforeAll(async () => {
  if (SKIP_BROWSER) return;
  relay = await startWorkerRelay({ log: "error" });
  daemon = await startDaemon({
    home: await tempHome(),
    relay: { endpoint: `127.0.0.1:${relay!.port}`, tls: false },
    log: silentLogger,
    stopGraceMs: 500,
  });
  const d = daemon;
  await waitFor(() => d.relayStatus?.state === "connected", 10_000, "daemon registered with the Worker relay");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.close().catch(() => undefined);
  await relay?.close();
  await removeHomes();
});

describe.skipIf(SKIP_BROWSER)("browser app through the Worker relay", () => {
  it("opens the link through paseo open's server, follows an agent's output and sends it input", async () => {
    const d = daemon!;
    await d.agents.run({
      argv: nodeAgent(
        `process.stdout.write("ready\\n"); process.stdin.on("data", (x) => process.stdout.write("got: " + x));`,
      ),
      name: "echo",
    });
    const server = await startOpenServer(loadAppFiles(await ensureWebBuild()), parseOffer(d.pairing!.link));
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(server.url);
      await page.waitForSelector('.state[data-state="connected"]');
      expect(await page.textContent(".server-id")).toBe(d.identity.serverId);
      await page.click('.agent[data-name="echo"] .agent-open');
      const shows = (re: RegExp) =>
        page.waitForFunction(
          (src) => new RegExp(src).test(document.querySelector(".agent-view .output .xterm-rows")?.textContent ?? ""),
          re.source,
        );
      await shows(/ready/);
      await page.fill(".input-line", "hello through workerd");
      await page.press(".input-line", "Enter");
      await shows(/got: hello through workerd/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  });
});
