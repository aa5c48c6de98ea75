/**
 * Issue "browser app": the app served by a real relay at /, against a real daemon, in headless Chromium.
 * Open the link, see the daemon and its agents, follow output while an agent prints, send input, stop, start a new
 * agent, survive a relay restart with every line exactly once, and show each failure as a named error.
 */
import { hostname } from "node:os";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPairing } from "../../src/daemon/index.js";
import { OfferStore } from "../../src/daemon/offer-store.js";
import { parseOffer, encodeOffer } from "../../src/index.js";
import { startOpenServer } from "../../src/cli/open-server.js";
import { loadAppFiles } from "../../src/relay/static.js";
import {
  newPage,
  nodeAgent,
  removeHomes,
  SKIP_BROWSER,
  startBrowserAndStack,
  tempHome,
  type Stack,
} from "./helpers.js";

const ECHO = nodeAgent(
  `process.stdout.write("ready\\n"); process.stdin.on("data", (d) => process.stdout.write("got: " + d));`,
);
const TICKS = 70;
const TICKER = nodeAgent(
  `let i = 0; const t = setInterval(() => { console.log("tick-" + ++i); if (i === ${TICKS}) clearInterval(t); }, 60);`,
);

let browser: Browser | undefined;
let stack: Stack;

async function openApp(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.waitForSelector('.state[data-state="connected"]');
}

/** The output view's rows as text (xterm renders the visible rows; trailing blanks trimmed). */
async function output(page: Page): Promise<string> {
  const text = await page.locator(".agent-view .output .xterm-rows").innerText();
  return text
    .split("\n")
    .map((l) => l.replace(/\s+$/, ""))
    .join("\n");
}

/** Wait until the output view shows `re` (evaluated in the page). */
function outputMatches(page: Page, re: RegExp) {
  return page.waitForFunction(
    (src) => new RegExp(src).test(document.querySelector(".agent-view .output .xterm-rows")?.textContent ?? ""),
    re.source,
  );
}

beforeAll(async () => {
  if (!SKIP_BROWSER) ({ browser, stack } = await startBrowserAndStack());
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

describe.skipIf(SKIP_BROWSER)("browser app against a real relay and daemon", () => {
  it("opens the link: identity, state, metrics and agents; the offer leaves the address bar and is not stored", async () => {
    await stack.daemon.agents.run({ argv: nodeAgent("setTimeout(() => {}, 60000)"), name: "sleeper" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await openApp(page, stack.link);
      expect(page.url()).toBe(`${stack.relay.url}/`);
      expect(await page.evaluate(() => location.hash)).toBe("");
      await page.waitForSelector('.agent[data-name="sleeper"][data-state="running"]');
      expect(await page.textContent(".fingerprint")).toBe(stack.daemon.identity.fingerprint);
      expect(await page.textContent(".server-id")).toBe(stack.daemon.identity.serverId);
      expect(await page.textContent(".daemon-host")).toBe(hostname());
      expect(await page.textContent(".topbar .host")).toBe(hostname());
      expect(await page.textContent('.metric[data-metric="memory"] .metric-value')).toMatch(/\d.* \/ \d/);
      expect(await page.textContent(".agent-list")).toContain("running");
      // Nothing was written to storage, and the link is not in the page's history entry either.
      expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).toBe("{}{}");
      // The agent list refreshes by itself: an agent started elsewhere shows up without a reload.
      await stack.daemon.agents.run({ argv: nodeAgent("setTimeout(() => {}, 60000)"), name: "late-arrival" });
      await page.waitForSelector('.agent[data-name="late-arrival"]', { timeout: 5000 });
      expect(problems).toEqual([]);
      // The history entry was replaced, not added to: Back leaves the app instead of revealing the link.
      await page.goBack();
      expect(page.url()).toBe("about:blank");
    } finally {
      await context.close();
    }
  });

  it("follows an agent's output, sends it input and stops it", async () => {
    await stack.daemon.agents.run({ argv: ECHO, name: "echo" });
    const { page, problems, context } = await newPage(browser!);
    try {
      await openApp(page, stack.link);
      await page.click('.agent[data-name="echo"] .agent-open');
      await outputMatches(page, /ready/);
      await page.fill(".input-line", "hello from the browser");
      await page.press(".input-line", "Enter");
      await outputMatches(page, /got: hello from the browser/);
      expect(await page.inputValue(".input-line")).toBe("");
      await page.click('button[data-action="stop"]');
      expect(await page.textContent('button[data-action="stop"]')).toBe("Confirm stop");
      await page.click('button[data-action="stop"]');
      await page.waitForSelector('.agent-view:not([data-state="running"])');
      await page.waitForSelector('.agent[data-name="echo"]:not([data-state="running"])');
      expect(await output(page)).toMatch(/— agent killed \(SIGTERM\) —|— agent exited/);
      expect(await page.isDisabled(".input-line")).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("starts a new agent from the form and shows its output", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      await openApp(page, stack.link);
      await page.click('button[data-action="new"]');
      await page.fill('input[name="command"]', "echo started-from-the-browser; echo second line >&2");
      await page.fill('input[name="name"]', "from-browser");
      // A terminal is the default; this one runs with pipes (stdout and stderr apart).
      expect(await page.isChecked('input[name="kind"][value="terminal"]')).toBe(true);
      await page.check('input[name="kind"][value="plain"]');
      await page.click('.new-agent button[type="submit"]');
      // Starting an agent spawns its host process: allow for a loaded machine.
      await page.waitForSelector('.agent-view[aria-label="Agent from-browser"]', { timeout: 20_000 });
      await page.waitForSelector('.agent-view[data-state="exited"]');
      // The state badge changes first; the closing note reaches the terminal view a moment later (xterm renders on
      // its next frame).
      await outputMatches(page, /agent exited \(0\)/);
      const text = await output(page);
      expect(text).toContain("started-from-the-browser\nsecond line\n");
      expect(text).toContain("agent exited (0)");
      expect((await stack.daemon.agents.list({ all: true })).some((a) => a.name === "from-browser")).toBe(true);
      // A bad directory comes back as the daemon's named error, inline in the form.
      await page.click('button[data-action="new"]');
      await page.fill('input[name="command"]', "true");
      await page.fill('input[name="cwd"]', "/definitely/not/here");
      await page.click('.new-agent button[type="submit"]');
      await page.waitForSelector(".new-agent .error-block");
      expect(await page.textContent(".new-agent .error-title")).toBe("The daemon refused the request");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("survives a relay restart: every line appears exactly once", async () => {
    const ticker = await stack.daemon.agents.run({ argv: TICKER, name: "ticker" });
    // Tall enough for every line to stay on screen (the test reads the rendered rows).
    const { page, problems, context } = await newPage(browser!, { height: 1900 });
    try {
      await openApp(page, stack.link);
      await page.click(`.agent[data-id="${ticker.id}"] .agent-open`);
      await outputMatches(page, /tick-6/);
      let shownAtDrop = 0;
      await stack.restartRelay(async () => {
        await page.waitForSelector('.state[data-state="reconnecting"]', { timeout: 5000 });
        shownAtDrop = (await output(page)).split("\n").filter((l) => l.startsWith("tick-")).length;
      });
      await page.waitForSelector('.state[data-state="connected"]', { timeout: 15_000 });
      await page.waitForSelector('.agent-view[data-state="exited"]', { timeout: 15_000 });
      await outputMatches(page, /agent exited/); // written after the last line: everything is on screen
      const lines = (await output(page)).split("\n").filter((l) => l.startsWith("tick-"));
      expect(lines).toEqual(Array.from({ length: TICKS }, (_, i) => `tick-${i + 1}`));
      // The connection really dropped mid-stream: lines after the drop came from the resumed subscription.
      expect(shownAtDrop).toBeGreaterThanOrEqual(5);
      expect(shownAtDrop).toBeLessThan(TICKS);
      expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("works on a phone-sized screen: list, then the agent full-width, and back", async () => {
    const { page, problems, context } = await newPage(browser!, { width: 390, height: 844, mobile: true });
    try {
      await openApp(page, stack.link);
      await page.waitForSelector('.agent[data-name="sleeper"]');
      expect(await page.isVisible(".detail")).toBe(false);
      await page.tap('.agent[data-name="sleeper"] .agent-open');
      await page.waitForSelector(".agent-view .output .xterm-rows");
      expect(await page.isVisible(".sidebar")).toBe(false);
      expect(await page.isVisible(".input-line")).toBe(true);
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      expect(fits).toBe(true);
      await page.tap(".agent-view .back");
      await page.waitForSelector(".sidebar", { state: "visible" });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("remembers the daemon only when asked, and reconnects from the pairing page", async () => {
    const { page, context } = await newPage(browser!);
    try {
      await openApp(page, stack.link);
      await page.check('.identity input[name="remember"]');
      const stored = await page.evaluate(() => localStorage.getItem("paseo.daemons.v1"));
      expect(JSON.parse(stored!)).toMatchObject([{ serverId: stack.daemon.identity.serverId, name: hostname() }]);
      await page.goto(`${stack.relay.url}/`);
      await page.click(".remembered-open");
      await page.waitForSelector('.state[data-state="connected"]');
      await page.click('button[data-action="switch"]');
      await page.click('.remembered button:has-text("Forget")');
      expect(await page.evaluate(() => localStorage.getItem("paseo.daemons.v1"))).toBeNull();
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(SKIP_BROWSER)("browser app failures: the CLI's named errors, each with the next step", () => {
  async function failure(
    link: string,
    code: string,
    title: RegExp,
    next: RegExp,
    width = 1280,
    offerText = link,
  ): Promise<void> {
    const { page, context } = await newPage(browser!, { width, height: 800 });
    try {
      await page.goto(link);
      const banner = page.locator(`.banner[data-code="${code}"]`);
      await banner.waitFor({ timeout: 8000 });
      expect(await banner.locator(".error-title").innerText()).toMatch(title);
      expect(await banner.locator(".error-next").innerText()).toMatch(next);
      expect(await banner.innerText()).not.toContain(parseOffer(offerText, { allowExpired: true }).secretB64);
      expect(await page.evaluate(() => location.hash)).toBe("");
    } finally {
      await context.close();
    }
  }

  it("an expired link shows its message", async () => {
    const { link } = await stack.pair({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await failure(link, "OFFER_EXPIRED", /pairing link has expired/, /paseo daemon pair/, 390);
  });

  it("revoked, wrong secret, daemon offline and relay unreachable", async () => {
    const revoked = await stack.pair();
    await new OfferStore(stack.home).revokeOffer(revoked.offerId);
    await failure(revoked.link, "OFFER_REVOKED", /was revoked/, /paseo daemon pair/);

    const offer = parseOffer(stack.link);
    const base = `${stack.relay.url}/#offer=`;
    await failure(
      base + encodeOffer({ ...offer, secretB64: "A".repeat(43) }),
      "HANDSHAKE_FAILED",
      /did not accept this link/,
      /paseo daemon pair/,
    );

    // An offer for a daemon that is not connected: same relay, another identity.
    const other = await createPairing({
      home: await tempHome(),
      relay: { endpoint: `127.0.0.1:${stack.port}`, tls: false },
    });
    await failure(other.link, "DAEMON_OFFLINE", /daemon is offline/, /paseo daemon start/);

    const unreachable = { ...offer, relay: { endpoint: "127.0.0.1:9", tls: false } };
    // The relay's own page may connect to that relay only (connect-src 'self'): a link for another relay is refused
    // by the browser, and the page says so by name instead of timing out.
    await failure(base + encodeOffer(unreachable), "RELAY_NOT_ALLOWED", /may not connect/, /paseo open/);
    // Opened through `paseo open`'s loopback server (connect-src = the offer's relay), a dead relay is unreachable.
    const server = await startOpenServer(loadAppFiles(stack.staticDir!), unreachable);
    try {
      await failure(
        server.url,
        "RELAY_UNREACHABLE",
        /Cannot reach the relay/,
        /network/,
        1280,
        base + encodeOffer(unreachable),
      );
    } finally {
      await server.close();
    }
  });
});
