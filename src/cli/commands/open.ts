/**
 * `paseo open <link|file>`: open a pairing link in the browser with the app served from THIS machine (loopback, an
 * ephemeral port), not from the relay or any web host — the page that reads the offer is the packaged app the user
 * installed. Stays in the foreground (the page's files are served from here) until Ctrl-C. See ../open-server.ts for
 * how the offer reaches the browser without entering argv, logs or server requests.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { resolveOffer } from "../../client/offer-resolve.js";
import { PaseoError } from "../../protocol/errors.js";
import { loadAppFiles } from "../../relay/static.js";
import { startOpenServer } from "../open-server.js";
import { info } from "../output.js";

/** The packaged app (dist/web, next to dist/cli/). */
function packagedApp(): string {
  const dir = fileURLToPath(new URL("../../web/", import.meta.url));
  if (!existsSync(join(dir, "index.html"))) {
    throw new PaseoError("APP_MISSING", "the browser app is not built (run `npm run build`; it lands in dist/web)");
  }
  return dir;
}

/**
 * Start the user's browser on `url` (which holds only the single-use claim token). $BROWSER wins, as for git and
 * man; else the platform's opener. Detached and ignored: the browser outlives us, and its output is not ours.
 */
function launchBrowser(url: string): void {
  const browser = process.env.BROWSER?.trim();
  const [cmd, args] = browser
    ? [browser, [url]]
    : process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", '""', url]]
        : ["xdg-open", [url]];
  const child = spawn(cmd, args, { detached: true, stdio: "ignore" });
  child.on("error", () => info("could not start a browser: open the URL above yourself"));
  child.unref();
}

interface OpenOptions {
  browser: boolean;
}

export function register(program: Command): void {
  program
    .command("open")
    .description(
      "open a pairing link in your browser, with the app served from this machine (loopback), not by the relay",
    )
    .argument("[link|file]", "a pairing link, or a file holding one (safer: not in argv); default $PASEO_RELAY_OFFER")
    .option("--no-browser", "only print the URL to open (single use, expires in 5 min)")
    .addHelpText("after", "\nExamples:\n  paseo open ~/paseo-offer.json\n  paseo open --no-browser ~/paseo-offer.json")
    .action(async (target: string | undefined, o: OpenOptions) => {
      const resolved = await resolveOffer(target !== undefined ? { relay: target } : {});
      if (!resolved)
        throw new PaseoError("USAGE", "paseo open needs a pairing link or a file holding one (or $PASEO_RELAY_OFFER)");
      const app = loadAppFiles(packagedApp());
      const server = await startOpenServer(app, resolved.offer);
      const relay = `${resolved.offer.relay.tls ? "wss" : "ws"}://${resolved.offer.relay.endpoint}`;
      process.stdout.write(`${server.url}\n`);
      info(`Serving the paseo app on 127.0.0.1:${server.port} for daemon ${resolved.offer.serverId} via ${relay}.`);
      info("The URL works once (it hands the pairing offer to the first browser that opens it). Ctrl-C to stop.");
      if (o.browser) launchBrowser(server.url);
      void server.claimed.then((ok) => {
        if (ok)
          info(
            "The browser took the pairing offer. If the page says the URL was already used, someone else took it: revoke the offer.",
          );
        else if (server.state === "expired")
          info("The URL expired unused; the app stays served for pages already open.");
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await server.close();
    });
}
