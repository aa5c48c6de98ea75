/** Where the browser tests find Chromium (see chromiumPath). Also used by test/setup/chromium.ts. */
import { existsSync } from "node:fs";

/** Debian's Chromium, used when present. */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/**
 * The Chromium to drive: $PASEO_CHROMIUM, else Debian's /usr/bin/chromium, else the binary that ships inside the
 * npm package @sparticuz/chromium (a devDependency: `npm install` brings it, no apt and no download from elsewhere;
 * it unpacks itself into /tmp on first use). Fails with what to do when none can be had.
 */
export async function chromiumPath(): Promise<string> {
  const explicit = process.env.PASEO_CHROMIUM;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`PASEO_CHROMIUM points at ${explicit}, which does not exist: fix the path or unset it.`);
    return explicit;
  }
  if (existsSync(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  try {
    const { default: packaged } = await import("@sparticuz/chromium");
    return await packaged.executablePath();
  } catch (err) {
    throw new Error(
      `no Chromium for the browser tests: not at ${SYSTEM_CHROMIUM}, and the one in @sparticuz/chromium could not be ` +
        `unpacked (${(err as Error).message}). Run \`npm install\` (it is a devDependency), install Debian's chromium, ` +
        "or point PASEO_CHROMIUM at a Chromium binary.",
    );
  }
}

