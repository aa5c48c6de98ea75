/**
 * vitest globalSetup: resolve the browser once, before any worker starts. @sparticuz/chromium unpacks its binary
 * into /tmp on first use and is not safe to call from two processes at once (one could launch a half-written
 * binary), so the web suites' workers get the resolved path through PASEO_CHROMIUM instead of unpacking it each.
 */
import { chromiumPath } from "../web/chromium-path.js";

export default async function setup(): Promise<void> {
  if (process.env.PASEO_SKIP_BROWSER === "1") return;
  process.env.PASEO_CHROMIUM = await chromiumPath();
}
