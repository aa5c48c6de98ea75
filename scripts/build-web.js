#!/usr/bin/env node
/**
 * Build the browser app into static files the relay serves at `/` (docs/protocol.md §5.1):
 *
 *   src/web/main.ts  → dist/web/app.js   (esbuild: one ES module, browser platform, es2020, minified; @xterm/xterm
 *                                          and @xterm/addon-fit bundled in, rewritten for the CSP by xterm-csp.js)
 *   src/web/app.css  → dist/web/app.css  (esbuild: with @xterm/xterm/css/xterm.css @imported into the one file)
 *   src/web/index.html → dist/web/index.html
 *
 * Nothing is loaded from anywhere else at run time (no CDN): the relay serves these three files under its CSP.
 *
 * The bundle must not contain Node built-ins or the `ws` package (the app uses the browser's WebSocket and the
 * noble crypto backend); the build fails if it does. Anything else in dist/web/ (e.g. tsc's per-file output of
 * src/web) is removed so the relay serves exactly these three files.
 *
 *   node scripts/build-web.js [--out dir] [--no-minify]
 */
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { xtermCspPlugin } from "./xterm-csp.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WEB_SRC = join(ROOT, "src/web");
export const WEB_OUT = join(ROOT, "dist/web");
export const WEB_FILES = ["index.html", "app.js", "app.css"];

/** Inputs that may not appear in the browser bundle. */
export function forbiddenInputs(metafile) {
  return Object.keys(metafile.inputs).filter(
    (p) =>
      p.startsWith("node:") ||
      /(^|\/)node_modules\/ws\//.test(p) ||
      /^(fs|path|crypto|os|net|http|https|stream|child_process)$/.test(p),
  );
}

/**
 * Build into `outDir` (default dist/web). Files are built in a temporary directory and renamed into place, so a
 * relay serving outDir never sees a half-written app.js (and two concurrent builds cannot interleave).
 * Resolves with the esbuild metafile.
 */
export async function buildWeb({ outDir = WEB_OUT, minify = true } = {}) {
  await mkdir(outDir, { recursive: true });
  const tmp = await mkdtemp(join(dirname(outDir), ".web-build-"));
  try {
    const result = await esbuild.build({
      entryPoints: [join(WEB_SRC, "main.ts")],
      outfile: join(tmp, "app.js"),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2020",
      minify,
      legalComments: "none",
      metafile: true,
      logLevel: "warning",
      plugins: [xtermCspPlugin],
    });
    const bad = forbiddenInputs(result.metafile);
    if (bad.length > 0) throw new Error(`browser bundle pulls in Node-only modules: ${bad.join(", ")}`);
    await esbuild.build({
      entryPoints: [join(WEB_SRC, "app.css")],
      outfile: join(tmp, "app.css"),
      bundle: true,
      minify,
      legalComments: "none",
      logLevel: "warning",
    });
    await copyFile(join(WEB_SRC, "index.html"), join(tmp, "index.html"));
    for (const f of WEB_FILES) await rename(join(tmp, f), join(outDir, f));
    // Only the app is served: drop anything else (e.g. tsc's per-file output of src/web).
    for (const entry of await readdir(outDir)) {
      if (!WEB_FILES.includes(entry)) await rm(join(outDir, entry), { recursive: true, force: true });
    }
    return result.metafile;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(p));
    else if (/\.(ts|css|html)$/.test(entry.name)) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/**
 * true when dist/web is missing a file or older than any source under src/ (the app bundles src/index.ts too), than
 * this build script and its xterm rewrite, or than the installed xterm packages.
 */
export async function isWebBuildStale(outDir = WEB_OUT) {
  try {
    const built = Math.min(...(await Promise.all(WEB_FILES.map(async (f) => (await stat(join(outDir, f))).mtimeMs))));
    const inputs = [
      "scripts/build-web.js",
      "scripts/xterm-csp.js",
      "node_modules/@xterm/xterm/package.json",
      "node_modules/@xterm/addon-fit/package.json",
    ];
    const mtimes = await Promise.all(inputs.map(async (f) => (await stat(join(ROOT, f))).mtimeMs));
    return Math.max(await newestMtime(join(ROOT, "src")), ...mtimes) > built;
  } catch {
    return true;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf("--out");
  const outDir = outIndex >= 0 ? resolve(args[outIndex + 1]) : WEB_OUT;
  const started = Date.now();
  buildWeb({ outDir, minify: !args.includes("--no-minify") }).then(
    async () => {
      const size = (await stat(join(outDir, "app.js"))).size;
      process.stdout.write(`built ${outDir} (app.js ${(size / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms\n`);
    },
    (err) => {
      process.stderr.write(`build-web: ${err.message}\n`);
      process.exit(1);
    },
  );
}
