#!/usr/bin/env node
/**
 * Bundle the CLI (entry src/cli/bin.ts, which loads src/cli/main.ts) with esbuild into dist/cli/main.js, the package's `bin`, so that `paseo ls`
 * reads a few files instead of resolving ~150 modules one by one (the module loader was most of the CLI's own
 * start-up time). Run by `npm run build` after tsc: tsc's per-file output stays in dist/ for the library exports
 * (`paseo`, `paseo/daemon`, …); only dist/cli/main.js is replaced by the bundle.
 *
 *   dist/cli/main.js            the entry (src/cli/bin.ts): prints the version itself, else imports src/cli/main.ts
 *   dist/cli/bundle-*.js        chunks loaded on demand by dynamic import (commander and the command table, a
 *                               command's module, ws, the crypto backend, the daemon, the relay): `paseo
 *                               --version` loads none of them, `paseo ls` only the client's
 *
 * Rules the bundle keeps:
 * - Only BUNDLED_PACKAGES are inlined (pure JS the CLI needs on its fast paths). Every other package stays an
 *   ordinary import from node_modules — native (@lydell/node-pty) and heavy (@xterm/headless) ones above all, so
 *   they are loaded only by the code path that uses them, exactly as from tsc's output.
 * - `import.meta.url` in a source file means that file's tsc location (dist/<dir>/<file>.js), so paths computed
 *   from it (the built web app, createRequire) resolve as they do unbundled.
 * - The specifiers that src/ computes at run time to hide Node-only modules from browser bundlers (the native
 *   crypto backend, `ws`) are made literal here, so they are bundled as lazy chunks of this same module graph
 *   instead of loading a second copy of them (a second copy has its own error classes: `instanceof` would fail).
 *   The build fails if one of those expressions is no longer found, rather than silently loading the slow way.
 * - Source maps next to every file (`node --enable-source-maps dist/cli/main.js …` maps stack traces to src/);
 *   not minified, names kept, so a stack trace is readable even without them.
 *
 *   node scripts/build-cli.js
 */
import { readFile, readdir, rm } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The process entry (answers --version itself, then loads src/cli/main.ts); its bundle is dist/cli/main.js. */
export const CLI_ENTRY = join(ROOT, "src/cli/bin.ts");
export const CLI_OUT = join(ROOT, "dist/cli");
const CHUNK_PREFIX = "bundle-";

/** Pure-JS packages inlined into the bundle. Everything else under node_modules stays external. */
export const BUNDLED_PACKAGES = ["commander", "ws", "@noble/ciphers", "@noble/curves", "@noble/hashes"];

/** Run-time-computed specifiers in src/ (see the header) and the literal each one stands for. */
const LITERAL_SPECIFIERS = [
  { file: "src/protocol/crypto/select.ts", expr: "import(/* @vite-ignore */ path)", literal: 'import("./native.js")' },
  { file: "src/client/transport.ts", expr: "import(/* @vite-ignore */ specifier)", literal: 'import("ws")' },
];

function packageName(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const cliPlugin = {
  name: "paseo-cli",
  setup(build) {
    // Bare specifiers: inline the allowed packages, leave every other package to node_modules at run time.
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      if (BUNDLED_PACKAGES.includes(packageName(args.path))) return undefined;
      return { path: args.path, external: true };
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      let text = await readFile(args.path, "utf8");
      const rel = relative(ROOT, args.path).split(sep).join("/");
      for (const s of LITERAL_SPECIFIERS) {
        if (s.file !== rel) continue;
        if (!text.includes(s.expr)) throw new Error(`${rel} no longer contains ${s.expr}: update LITERAL_SPECIFIERS in scripts/build-cli.js`);
        text = text.replace(s.expr, s.literal);
      }
      if (text.includes("import.meta.url")) {
        const tscOut = join(ROOT, "dist", relative(join(ROOT, "src"), args.path)).replace(/\.ts$/, ".js");
        const fromOut = relative(CLI_OUT, tscOut).split(sep).join("/");
        text = text.replaceAll("import.meta.url", `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`);
      }
      return { contents: text, loader: "ts" };
    });
  },
};

export async function buildCli() {
  // Chunk names carry a content hash: remove the previous build's chunks so dist/ holds exactly this build.
  for (const entry of await readdir(CLI_OUT).catch(() => [])) {
    if (entry.startsWith(CHUNK_PREFIX)) await rm(join(CLI_OUT, entry), { force: true });
  }
  const result = await esbuild.build({
    entryPoints: { main: CLI_ENTRY },
    outdir: CLI_OUT,
    chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    keepNames: true,
    legalComments: "inline",
    metafile: true,
    logLevel: "warning",
    // The inlined CommonJS packages (commander, ws) call require() for Node built-ins.
    banner: { js: 'import { createRequire as __paseoCreateRequire } from "node:module"; const require = __paseoCreateRequire(import.meta.url);' },
    plugins: [cliPlugin],
  });
  return result.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildCli().then(
    (metafile) => {
      const outputs = Object.entries(metafile.outputs).filter(([p]) => p.endsWith(".js"));
      const main = outputs.find(([p]) => p.endsWith("cli/main.js"));
      process.stdout.write(
        `built ${CLI_OUT}/main.js (${(main[1].bytes / 1024).toFixed(0)} KiB) + ${outputs.length - 1} lazy chunks in ${Date.now() - started} ms\n`,
      );
    },
    (err) => {
      process.stderr.write(`build-cli: ${err.message}\n`);
      process.exit(1);
    },
  );
}
