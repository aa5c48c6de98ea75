/**
 * Fixtures for the browser tests: the web build (rebuilt when missing or stale), headless Chromium (see chromium-path.ts;
 * driven by playwright-core), and a real relay + daemon running in this process on 127.0.0.1 — the relay serves the app
 * from dist/web with its strict CSP. `cleanup()` closes the browser, the daemon and the relay, and removes homes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createPairing, startDaemon, type Daemon } from "../../src/daemon/index.js";
import { silentLogger } from "../../src/daemon/logger.js";
import { startRelay, type Relay } from "../../src/relay/index.js";
// @ts-expect-error — plain JS build script without type declarations
import { buildWeb, isWebBuildStale, WEB_OUT } from "../../scripts/build-web.js";
import { CHROMIUM_ERROR_ENV, chromiumPath, NoChromiumError } from "./chromium-path.js";
import { killAgentProcesses } from "../setup/agent-procs.js";

export const SKIP_BROWSER = process.env.PASEO_SKIP_BROWSER === "1";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Build dist/web unless it is up to date. Returns its path. */
export async function ensureWebBuild(): Promise<string> {
  if (await isWebBuildStale()) await buildWeb();
  return WEB_OUT as string;
}

/**
 * Launch headless Chromium, or fail saying why and what to do (set PASEO_SKIP_BROWSER=1 to skip these tests
 * explicitly instead; they never skip on their own).
 */
export async function launchBrowser(): Promise<Browser> {
  const reason = process.env[CHROMIUM_ERROR_ENV];
  if (reason) throw new NoChromiumError(reason);
  const executablePath = await chromiumPath();
  try {
    return await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 15_000 });
  } catch (err) {
    throw new NoChromiumError(
      `Chromium at ${executablePath} did not start: ${(err as Error).message.split("\n")[0]}. If it cannot be executed ` +
        "(a noexec /tmp), set TMPDIR to a directory that allows it; if it lacks system libraries, install Debian's " +
        "chromium or point PASEO_CHROMIUM at a working Chromium.",
      { cause: err },
    );
  }
}

/** A page that records console errors, page errors and CSP violations (tests assert there are none). */
export async function newPage(
  browser: Browser,
  options: { width?: number; height?: number; mobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return { context, page, problems };
}

export interface Stack {
  relay: Relay;
  daemon: Daemon;
  home: string;
  port: number;
  /** dist/web, or undefined when started with { app: false }. */
  staticDir: string | undefined;
  /** The pairing link created at daemon start (opens the app served by the relay). */
  link: string;
  /** Close the relay (4009 to everyone) and start it again on the same port. */
  restartRelay(during?: () => Promise<void>): Promise<void>;
  /** A new pairing link for this daemon (e.g. with a short ttl). */
  pair(options?: { ttlMs?: number; once?: boolean }): Promise<{ link: string; offerId: string }>;
  close(): Promise<void>;
}

const homes: string[] = [];

export async function tempHome(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "paseo-web-"));
  homes.push(dir);
  return dir;
}

/** A relay serving the app (unless app: false) plus a daemon registered with it, both in this process. */
export async function startStack(options: { app?: boolean } = {}): Promise<Stack> {
  const staticDir = options.app === false ? undefined : await ensureWebBuild();
  let relay = await startRelay({
    host: "127.0.0.1",
    port: 0,
    serveApp: staticDir !== undefined,
    staticDir,
    offlineGraceMs: 500,
  });
  const port = relay.port;
  const home = await tempHome();
  const daemon = await startDaemon({
    home,
    relay: { endpoint: `127.0.0.1:${port}`, tls: false },
    log: silentLogger,
    stopGraceMs: 500,
  });
  if (!daemon.pairing) throw new Error("daemon did not create a pairing link");
  await waitFor(() => daemon.relayStatus?.state === "connected", 10_000, "daemon registered with the relay");
  const stack: Stack = {
    get relay() {
      return relay;
    },
    daemon,
    home,
    port,
    staticDir,
    link: daemon.pairing.link,
    async restartRelay(during) {
      const closing = relay.close();
      await during?.();
      await closing;
      relay = await startRelay({
        host: "127.0.0.1",
        port,
        serveApp: staticDir !== undefined,
        staticDir,
        offlineGraceMs: 500,
      });
    },
    async pair(options = {}) {
      const p = await createPairing({
        home,
        relay: { endpoint: `127.0.0.1:${port}`, tls: false },
        label: "web test",
        ...options,
      });
      return { link: p.link, offerId: p.record.id };
    },
    async close() {
      await daemon.close().catch(() => undefined);
      await relay.close().catch(() => undefined);
    },
  };
  return stack;
}

/** Browser and stack together; if either fails to start, the other is closed before the error is rethrown. */
export async function startBrowserAndStack(
  options: { app?: boolean } = {},
): Promise<{ browser: Browser; stack: Stack }> {
  const [b, st] = await Promise.allSettled([launchBrowser(), startStack(options)]);
  if (b.status === "fulfilled" && st.status === "fulfilled") return { browser: b.value, stack: st.value };
  if (b.status === "fulfilled") await b.value.close();
  if (st.status === "fulfilled") await st.value.close();
  throw b.status === "rejected" ? b.reason : (st as PromiseRejectedResult).reason;
}

export async function removeHomes(): Promise<void> {
  for (const h of homes) killAgentProcesses(h); // agents outlive the daemon: end them and their hosts too
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A Node one-liner as an agent argv (the daemon runs it without a shell). */
export function nodeAgent(script: string): string[] {
  return [process.execPath, "-e", script];
}
