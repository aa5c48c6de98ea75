/**
 * Finding a browser on a fresh machine (issue 12, item 1): the Chromium inside @sparticuz/chromium is unpacked
 * into a directory of its own, never taken from a leftover `$TMPDIR/chromium`, and a missing browser is a named
 * failure of the browser tests, never a skip.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CHROMIUM_ERROR_ENV, chromiumPath, NoChromiumError, packagedChromium } from "./chromium-path.js";
import { launchBrowser } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "paseo-chromium-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the packaged Chromium", { timeout: 60_000 }, () => {
  it("is unpacked whole into its own directory, not taken from a truncated $TMPDIR/chromium, then reused", async () => {
    // What an interrupted or concurrent unpack leaves where @sparticuz/chromium looks first (it reuses any file there).
    const truncated = join(root, "chromium");
    // What a run interrupted while unpacking leaves behind (200 MB): removed once it is clearly abandoned.
    const abandoned = join(root, "paseo-chromium-unpacking-abc123");
    mkdirSync(abandoned);
    const longAgo = new Date(Date.now() - 3_600_000);
    utimesSync(abandoned, longAgo, longAgo);
    writeFileSync(truncated, "#!/bin/sh\nexit 1\n", { mode: 0o700 });
    const path = await packagedChromium(root);
    expect(path).not.toBe(truncated);
    const st = statSync(path);
    expect(st.size).toBeGreaterThan(100 * 1024 * 1024);
    expect(st.mode & 0o100).toBe(0o100);
    expect(await packagedChromium(root)).toBe(path);
    // No unpacking leftovers, neither this run's nor the abandoned one.
    expect(readdirSync(root).filter((n) => n.includes("unpacking"))).toEqual([]);
  });
});

describe("no browser", () => {
  it("a PASEO_CHROMIUM that does not exist is a named error that says what to do", async () => {
    const saved = process.env.PASEO_CHROMIUM;
    process.env.PASEO_CHROMIUM = join(root, "no-such-chromium");
    try {
      const err = await chromiumPath().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoChromiumError);
      expect((err as Error).message).toMatch(
        /PASEO_CHROMIUM points at .*no-such-chromium, which does not exist: fix the path or unset it/,
      );
    } finally {
      if (saved === undefined) delete process.env.PASEO_CHROMIUM;
      else process.env.PASEO_CHROMIUM = saved;
    }
    expect(existsSync(join(root, "no-such-chromium"))).toBe(false);
  });

  it("when the global setup found none, launching the browser fails with its reason (the tests do not skip)", async () => {
    process.env[CHROMIUM_ERROR_ENV] = "no Chromium for the browser tests: (reason)";
    try {
      await expect(launchBrowser()).rejects.toThrow(/no Chromium for the browser tests: \(reason\)/);
    } finally {
      delete process.env[CHROMIUM_ERROR_ENV];
    }
  });
});
