/**
 * Issue 15, items 1 and 6 — the untrusted relay served the page that reads the secret.
 *
 * The attack: a pairing link's origin was the relay, and the relay served the browser app, so a relay operator who
 * served a modified page read `#offer=…` from location.hash and sent it anywhere (the CSP allowed `connect-src ws:
 * wss:`), then ran `exec` as the daemon's user. And the relay served whatever sat in its app directory (`/.env`).
 *
 * Now: a relay serves the app only when its operator opts in (--serve-app); links point at an app URL
 * (--app-url) or, for a remote relay without one, at no web origin at all; `paseo open` serves the packaged app
 * from loopback with connect-src = exactly the offer's relay; only the app's own files are ever served.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeOffer, parseOffer } from "../../src/protocol/offer.js";
import { startOpenServer } from "../../src/cli/open-server.js";
import { startRelay } from "../../src/relay/index.js";
import { loadAppFiles } from "../../src/relay/static.js";
import { killAll, runCli, startProcess, startRelayProcess, tmpHome } from "../e2e/harness.js";
import {
  ensureWebBuild,
  launchBrowser,
  newPage,
  nodeAgent,
  removeHomes,
  SKIP_BROWSER,
  startStack,
  type Stack,
} from "../web/helpers.js";

const dirs: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(removeHomes);

/** One raw HTTP/1.1 request (no client-side path normalization), returning the whole response. */
function rawGet(port: number, target: string, host = `127.0.0.1:${port}`): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, "127.0.0.1", () =>
      sock.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    let out = "";
    sock.on("data", (d) => (out += d.toString()));
    sock.on("close", () => resolve(out));
    sock.on("error", reject);
    setTimeout(() => reject(new Error("no answer")), 3000).unref();
  });
}

describe("the relay serves the app only when its operator opts in", () => {
  it("`paseo relay` without --serve-app serves no app: a link through it can never open an operator's page", async () => {
    await ensureWebBuild();
    const relay = await startRelayProcess();
    const base = `http://127.0.0.1:${relay.port}`;
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await root.text()).toContain("does not serve the browser app");
    for (const path of ["/index.html", "/app.js", "/app.css"])
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    expect(relay.stderr()).toContain("not serving the browser app");
  });

  it("`paseo relay --serve-app` serves the app with connect-src 'self' only, not every ws:/wss: host", async () => {
    await ensureWebBuild();
    const relay = await startRelayProcess(0, ["--serve-app"]);
    const res = await fetch(`http://127.0.0.1:${relay.port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('src="app.js"');
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/(?:^|; )connect-src 'self';/);
    expect(csp).not.toMatch(/\bwss?:(?!\/\/)/);
  });

  it("serves only the app's own files read at start: dotfiles, non-app files, symlinks, later files, traversal → 404", async () => {
    const web = await ensureWebBuild();
    const root = mkdtempSync(join(tmpdir(), "paseo-app-origin-"));
    dirs.push(root);
    const site = join(root, "web");
    cpSync(web, site, { recursive: true });
    writeFileSync(join(root, "outside.js"), "outside");
    writeFileSync(join(site, ".env"), "AWS_SECRET=hunter2\n");
    mkdirSync(join(site, ".git"));
    writeFileSync(join(site, ".git", "config"), "[core]\n");
    mkdirSync(join(site, "sub"));
    writeFileSync(join(site, "sub", ".htpasswd"), "admin:x\n");
    writeFileSync(join(site, "secrets.json"), '{"k":1}\n');
    writeFileSync(join(site, "notes.txt"), "private\n");
    symlinkSync(join(root, "outside.js"), join(site, "link.js"));
    const relay = await startRelay({ host: "127.0.0.1", port: 0, serveApp: true, staticDir: site });
    closers.push(() => relay.close());
    writeFileSync(join(site, "late.js"), "added after start"); // not in the allow-list built at start

    expect((await fetch(`${relay.url}/app.js`)).status).toBe(200);
    for (const path of [
      "/.env",
      "/.git/config",
      "/sub/.htpasswd",
      "/secrets.json",
      "/notes.txt",
      "/link.js",
      "/late.js",
      "/%2eenv",
      "/.%65nv",
    ]) {
      expect((await fetch(`${relay.url}${path}`)).status, path).toBe(404);
    }
    for (const target of [
      "/../outside.js",
      "/%2e%2e/outside.js",
      "/..%2foutside.js",
      "/sub/../.env",
      "/./.env",
      "/sub/%2e%2e/.env",
    ]) {
      expect(await rawGet(relay.port, target), target).toMatch(/^HTTP\/1\.1 404/);
    }
    // "//.env" is a protocol-relative target (host ".env", path "/"): whatever it maps to, never the dotfile.
    expect(await rawGet(relay.port, "//.env")).not.toContain("hunter2");
    // Changing a served file on disk does not change what is served: the page is what was there at start.
    const before = await (await fetch(`${relay.url}/app.js`)).text();
    writeFileSync(join(site, "app.js"), "stealOffer(location.hash)");
    expect(await (await fetch(`${relay.url}/app.js`)).text()).toBe(before);
  });
});

describe("links point at the app URL, never at a remote relay", () => {
  it("`daemon pair --app-url X` links to X with the offer in the fragment, and X is saved for later links", async () => {
    const home = tmpHome();
    const first = await runCli([
      "daemon",
      "pair",
      "--home",
      home,
      "--relay",
      "wss://relay.example.com",
      "--app-url",
      "https://me.example.io/paseo/",
      "--json",
      "--no-qr",
    ]);
    expect(first.code, first.stderr).toBe(0);
    const { link } = JSON.parse(first.stdout) as { link: string };
    expect(link.startsWith("https://me.example.io/paseo/#offer=")).toBe(true);
    expect(parseOffer(link).relay).toEqual({ endpoint: "relay.example.com:443", tls: true });
    expect(JSON.parse(readFileSync(join(home, "config.json"), "utf8")).appUrl).toBe("https://me.example.io/paseo/");
    const again = await runCli([
      "daemon",
      "pair",
      "--home",
      home,
      "--relay",
      "wss://relay.example.com",
      "--json",
      "--no-qr",
    ]);
    expect((JSON.parse(again.stdout) as { link: string }).link.startsWith("https://me.example.io/paseo/#offer=")).toBe(
      true,
    );
  });

  it("`daemon start --app-url X` prints a link to X and saves X; the embedded relay still serves the app on loopback", async () => {
    const home = tmpHome();
    const daemon = startProcess([
      "daemon",
      "start",
      "--home",
      home,
      "--relay-port",
      "0",
      "--no-qr",
      "--app-url",
      "https://me.example.io/paseo/",
    ]);
    await daemon.waitFor(/Daemon fingerprint/);
    const link = /(\S+#offer=[A-Za-z0-9_-]+)/.exec(daemon.stdout())![1]!;
    expect(link.startsWith("https://me.example.io/paseo/#offer=")).toBe(true);
    expect(JSON.parse(readFileSync(join(home, "config.json"), "utf8")).appUrl).toBe("https://me.example.io/paseo/");
    // The embedded relay is the user's own process on loopback: it may serve the app (for `paseo open`-free local use).
    const relayPort = Number(parseOffer(link).relay.endpoint.split(":").pop());
    expect((await fetch(`http://127.0.0.1:${relayPort}/app.js`)).status).toBe(200);
    expect(await daemon.stop()).toBe(0);
  });

  it("without an app URL, a link for a remote relay does not point at the relay (it points at no web origin)", async () => {
    const home = tmpHome();
    const res = await runCli(["daemon", "pair", "--home", home, "--relay", "wss://relay.example.com", "--no-qr"]);
    expect(res.code, res.stderr).toBe(0);
    const link = /\S+#offer=\S+/.exec(res.stdout)![0];
    expect(link).not.toMatch(/^https?:\/\/relay\.example\.com/);
    expect(link.startsWith("paseo://open/#offer=")).toBe(true);
    expect(res.stdout).toContain("paseo open");
    expect(parseOffer(link).relay.endpoint).toBe("relay.example.com:443"); // the CLI still takes it as is
  });

  it("`daemon pair --app-url` refuses a URL with a fragment or credentials, without saving it", async () => {
    const home = tmpHome();
    for (const bad of ["https://x.example/#a", "ftp://x.example/", "https://u:p@x.example/"]) {
      const res = await runCli(["daemon", "pair", "--home", home, "--app-url", bad, "--no-qr"]);
      expect(res.code, bad).toBe(2);
    }
    expect(() => readFileSync(join(home, "config.json"))).toThrow();
  });
});

describe("`paseo open`'s claim URL", () => {
  it("a wrong token is refused, and an unclaimed URL expires: nobody gets the offer after that", async () => {
    const web = await ensureWebBuild();
    const st = await startStack({ app: false });
    closers.push(() => st.close());
    const offer = parseOffer(st.link);
    const server = await startOpenServer(loadAppFiles(web), offer, { claimTtlMs: 300 });
    closers.push(() => server.close());
    const wrong = new URL(server.url);
    wrong.searchParams.set("claim", "A".repeat(43));
    const refused = await fetch(wrong, { redirect: "manual" });
    expect(refused.status).toBe(403);
    expect(server.state).toBe("waiting");
    expect(await server.claimed).toBe(false); // expired
    const late = await fetch(server.url, { redirect: "manual" });
    expect(late.status).toBe(410);
    expect(late.headers.get("location")).toBeNull();
    expect(await late.text()).not.toContain(encodeOffer(offer));
  });

  it("the first GET gets a 303 to the fragment (no-store); the offer is never in the URL that was printed", async () => {
    const web = await ensureWebBuild();
    const st = await startStack({ app: false });
    closers.push(() => st.close());
    const offer = parseOffer(st.link);
    const server = await startOpenServer(loadAppFiles(web), offer);
    closers.push(() => server.close());
    expect(server.url).not.toContain(offer.secretB64);
    const first = await fetch(server.url, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe(`/#offer=${encodeOffer(offer)}`);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(await server.claimed).toBe(true);
    expect((await fetch(server.url, { redirect: "manual" })).status).toBe(410);
  });
});

describe.skipIf(SKIP_BROWSER)("`paseo open` serves the packaged app from loopback", () => {
  let browser: Browser | undefined;
  let stack: Stack | undefined;
  beforeAll(async () => {
    await ensureWebBuild();
    [browser, stack] = await Promise.all([launchBrowser(), startStack({ app: false })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await removeHomes();
  });

  it("opens the link from a file: the page comes from 127.0.0.1, talks only to the offer's relay and lists agents", async () => {
    const st = stack!;
    await st.daemon.agents.run({ argv: nodeAgent("setTimeout(() => {}, 60000)"), name: "opened" });
    // The stack's relay serves no app: before `paseo open`, the link's origin had nothing for the browser.
    expect((await fetch(`${st.relay.url}/app.js`)).status).toBe(404);
    const dir = mkdtempSync(join(tmpdir(), "paseo-open-"));
    dirs.push(dir);
    const file = join(dir, "offer.txt");
    writeFileSync(file, `${st.link}\n`, { mode: 0o600 });
    const offer = parseOffer(st.link);

    const proc = startProcess(["open", file, "--no-browser"]);
    const url = (await proc.waitFor(/^(http:\/\/127\.0\.0\.1:\d+\/\?claim=[A-Za-z0-9_-]+)$/m))[1]!;
    expect(url).not.toContain(encodeOffer(offer));
    expect(proc.stdout() + proc.stderr()).not.toContain(offer.secretB64);
    const port = Number(new URL(url).port);
    expect(port).not.toBe(st.relay.port);

    // The CSP names exactly the offer's relay; other files and foreign Hosts (DNS rebinding) are refused.
    const js = await fetch(`http://127.0.0.1:${port}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-security-policy")).toMatch(
      new RegExp(`(?:^|; )connect-src ws://127\\.0\\.0\\.1:${st.relay.port};`),
    );
    expect((await fetch(`http://127.0.0.1:${port}/.env`)).status).toBe(404);
    expect(await rawGet(port, "/", `attacker.example:${port}`)).toMatch(/^HTTP\/1\.1 421/);
    expect((await fetch(url, { method: "HEAD" })).status).toBe(204); // a HEAD (link preview) does not spend the URL

    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(url);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.waitForSelector('.agent[data-name="opened"]');
      expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
      expect(await page.textContent(".fingerprint")).toBe(st.daemon.identity.fingerprint);
      expect(problems).toEqual([]);
      // Any other host is blocked by the page's CSP, even a relay on the same machine.
      const other = await startRelay({ host: "127.0.0.1", port: 0 });
      closers.push(() => other.close());
      const blocked = await page.evaluate(
        (target) =>
          new Promise<string>((resolve) => {
            document.addEventListener("securitypolicyviolation", (e) => resolve(`blocked ${e.violatedDirective}`), {
              once: true,
            });
            try {
              const ws = new WebSocket(target);
              ws.onopen = () => resolve("opened");
            } catch (err) {
              resolve(`blocked ${(err as Error).name}`);
            }
            setTimeout(() => resolve("timeout"), 3000);
          }),
        `ws://127.0.0.1:${other.port}/v1/ws`,
      );
      expect(blocked).toMatch(/^blocked/);
    } finally {
      await context.close();
    }
    await proc.waitFor(/The browser took the pairing offer/);
    // Single use: whoever comes second (a local user who read the URL) gets nothing.
    const second = await fetch(url, { redirect: "manual" });
    expect(second.status).toBe(410);
    expect(await second.text()).not.toContain("#offer=");
    expect(await proc.stop()).toBe(0);
  });
});
