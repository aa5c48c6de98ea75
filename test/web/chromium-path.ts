/** Where the browser tests find Chromium (see chromiumPath). Also used by test/setup/chromium.ts. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's Chromium, used when present. */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** Set by test/setup/chromium.ts when no browser could be had, so the browser tests (only) fail with the reason. */
export const CHROMIUM_ERROR_ENV = "PASEO_CHROMIUM_ERROR";

export class NoChromiumError extends Error {
  readonly code = "NO_CHROMIUM";
}

/**
 * The Chromium to drive: $PASEO_CHROMIUM, else Debian's /usr/bin/chromium, else the binary that ships inside the
 * npm package @sparticuz/chromium (a devDependency: `npm install` brings it, no apt and no download from elsewhere).
 * Throws NoChromiumError saying what to do when none can be had — the browser tests never skip for lack of one.
 */
export async function chromiumPath(): Promise<string> {
  const explicit = process.env.PASEO_CHROMIUM;
  if (explicit) {
    if (!existsSync(explicit))
      throw new NoChromiumError(
        `PASEO_CHROMIUM points at ${explicit}, which does not exist: fix the path or unset it.`,
      );
    return explicit;
  }
  if (existsSync(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  try {
    return await packagedChromium();
  } catch (err) {
    throw new NoChromiumError(
      `no Chromium for the browser tests: not at ${SYSTEM_CHROMIUM}, and the one in @sparticuz/chromium could not be ` +
        `unpacked (${(err as Error).message}). Run \`npm install\` (it is a devDependency), install Debian's chromium, ` +
        "or point PASEO_CHROMIUM at a Chromium binary.",
    );
  }
}

let unpacking: Promise<string> | undefined;

const STAGING_PREFIX = "paseo-chromium-unpacking-";
/** An unpack takes seconds; a staging directory this old was left by an interrupted run (200 MB each). */
const ABANDONED_AFTER_MS = 10 * 60_000;

function removeAbandonedUnpacks(root: string): void {
  for (const name of readdirSync(root)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const path = join(root, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > ABANDONED_AFTER_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another user's, or removed meanwhile: not ours to clean.
    }
  }
}

/**
 * @sparticuz/chromium's own executablePath() unpacks into `$TMPDIR/chromium` and reuses whatever file is there: a
 * half-written one from a concurrent run (several checkouts share /tmp), one left truncated by an interrupted run,
 * another user's (mode 0700), or another version's. So unpack into a fresh private directory (it honours TMPDIR at
 * call time) and rename it into a directory named by version and user: the rename is atomic, so that directory
 * either holds a complete unpack or does not exist. Two first runs at once both unpack (≈ 2 s, 200 MB); one
 * rename wins and the other copy is removed. One unpack at a time per process (TMPDIR is process-wide).
 */
export function packagedChromium(root: string = tmpdir()): Promise<string> {
  const run = (unpacking ?? Promise.resolve("")).catch(() => "").then(() => unpackOnce(root));
  unpacking = run;
  return run;
}

async function unpackOnce(root: string): Promise<string> {
  const require = createRequire(import.meta.url);
  // The package's exports do not include package.json: find its directory from the entry point.
  const entry = require.resolve("@sparticuz/chromium");
  const marker = join("@sparticuz", "chromium");
  const pkgDir = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const dir = join(root, `paseo-chromium-${version}-${process.getuid?.() ?? "user"}`);
  const binary = join(dir, "chromium");
  if (existsSync(binary)) return binary;

  removeAbandonedUnpacks(root);
  const staging = mkdtempSync(join(root, STAGING_PREFIX));
  try {
    const { default: packaged } = await import("@sparticuz/chromium");
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    let unpacked: string;
    try {
      unpacked = await packaged.executablePath(join(pkgDir, "bin"));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    if (unpacked !== join(staging, "chromium"))
      throw new Error(`unpacked to ${unpacked}, expected ${join(staging, "chromium")}`);
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another run renamed its complete unpack into place first: use that one.
      if (!existsSync(binary)) throw err;
    }
    return binary;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
