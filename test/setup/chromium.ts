/**
 * vitest globalSetup: resolve the browser once, before any worker starts. Unpacking @sparticuz/chromium takes a
 * couple of seconds and 200 MB, so the web suites' workers get the resolved path through PASEO_CHROMIUM instead of
 * each doing it.
 *
 * When no browser can be had, the run does not stop here (the other suites do not need one) and nothing is skipped:
 * the reason goes to the workers in PASEO_CHROMIUM_ERROR, and every browser test fails with it (launchBrowser).
 */
import { CHROMIUM_ERROR_ENV, chromiumPath } from "../web/chromium-path.js";

export default async function setup(): Promise<void> {
  if (process.env.PASEO_SKIP_BROWSER === "1") {
    process.stderr.write("PASEO_SKIP_BROWSER=1: the browser tests are skipped (unset it to run them).\n");
    return;
  }
  try {
    process.env.PASEO_CHROMIUM = await chromiumPath();
  } catch (err) {
    process.env[CHROMIUM_ERROR_ENV] = (err as Error).message;
    process.stderr.write(`paseo tests: ${(err as Error).message}\nThe browser tests will fail.\n`);
  }
}
