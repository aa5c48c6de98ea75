#!/usr/bin/env node
/**
 * Build the CLI that `npm install` ships (run by `npm run build` after tsc). tsc's per-file output stays in dist/
 * for the library exports (`paseo`, `paseo/daemon`, …); the CLI runs from two CommonJS files built by esbuild
 * instead, because the ES module loader — starting it, then resolving and linking ~150 files — was most of the
 * CLI's own start-up time (issue 12). dist/cli/ holds only these (tsc's output there is removed: nothing imports it):
 *
 *   dist/cli/package.json  {"type": "commonjs"}: the directory is CommonJS (the package itself is ESM)
 *   dist/cli/main.js       the `bin` (src/cli/bin.ts, ~1 KiB): prints the version itself, else requires ↓
 *   dist/cli/paseo.cjs     src/cli/main.ts and everything it reaches. Each command module and what only it uses
 *                          (the daemon, the relay, noble) is evaluated only when first imported: `paseo ls`
 *                          parses them but runs none of them.
 *
 * Rules the bundle keeps:
 * - Only BUNDLED_PACKAGES are inlined (pure JS the CLI needs). Every other package stays a require() from
 *   node_modules at the point of use — native (@lydell/node-pty) and heavy (@xterm/headless) ones above all, so
 *   only the code path that imports them loads them (in CommonJS output esbuild keeps an external import inside
 *   its importing module's lazy initialiser instead of hoisting it: test/cli/bundle.test.ts checks that `paseo ls`
 *   loads nothing from node_modules).
 * - `import.meta.url` in a source file means that file's tsc location (dist/<dir>/<file>.js), so paths computed
 *   from it (the built web app, the agent host script, createRequire) resolve as they do unbundled.
 * - The Node-only modules src/ loads lazily (the native crypto backend, `ws`, node:fs/promises) are plain static
 *   `import("…")` specifiers — package.json's `browser` field hides them from browser bundlers — so esbuild
 *   follows them here: they come from this same bundle (one copy, one set of error classes for `instanceof`) and
 *   stay lazy (an import() in CommonJS output is a deferred module initialiser).
 * - Source maps next to both files (`node --enable-source-maps dist/cli/main.js …` maps stack traces to src/); not
 *   minified, names kept, so a stack trace is readable even without them.
 *
 *   node scripts/build-cli.js
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_OUT = join(ROOT, "dist/cli");
export const BIN_OUT = join(CLI_OUT, "main.js");
export const BUNDLE_OUT = join(CLI_OUT, "paseo.cjs");

/** Pure-JS packages inlined into the bundle. Everything else under node_modules stays external. */
export const BUNDLED_PACKAGES = ["commander", "ws", "@noble/ciphers", "@noble/curves", "@noble/hashes"];

/**
 * Node built-ins that bundled packages require at load time but use only on paths `paseo ls` never takes:
 * commander spawns executable subcommands (paseo has none), ws needs https/tls only for wss:// and zlib only for
 * permessage-deflate (paseo never negotiates it). Each becomes an object that requires the built-in on first property
 * access — same values, loaded when used (~5 ms less start-up). The build fails if a line is no longer found.
 */
const LAZY_BUILTINS = [
  { file: "node_modules/commander/lib/command.js", line: "const childProcess = require('node:child_process');" },
  { file: "node_modules/ws/lib/websocket.js", line: "const https = require('https');" },
  { file: "node_modules/ws/lib/websocket.js", line: "const tls = require('tls');" },
  { file: "node_modules/ws/lib/permessage-deflate.js", line: "const zlib = require('zlib');" },
];

function lazyRequire(line) {
  const [, name, spec] = line.match(/^const (\w+) = require\(('[^']+')\);$/);
  return `const ${name} = new Proxy({}, { get: (_, key) => require(${spec})[key] }); // lazy: scripts/build-cli.js`;
}

/** What `import.meta.url` becomes in the CommonJS bundle (set by the banner). */
const BUNDLE_URL = "__paseoBundleUrl";

function packageName(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** `import.meta.url` of a source file, as an expression evaluated in the output file `out`. */
function tscLocation(sourcePath, urlOfOutput) {
  const tscOut = join(ROOT, "dist", relative(join(ROOT, "src"), sourcePath)).replace(/\.ts$/, ".js");
  const fromOut = relative(CLI_OUT, tscOut).split(sep).join("/");
  return `new URL(${JSON.stringify(fromOut)}, ${urlOfOutput}).href`;
}

const cliPlugin = {
  name: "paseo-cli",
  setup(build) {
    // ws's optional native add-ons: not dependencies of paseo, so never installed by it; as absent modules in the
    // bundle, ws's try { require(…) } falls back at once instead of searching every node_modules up to /.
    build.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: "absent" }));
    build.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled with paseo`)});`,
      loader: "js",
    }));
    // Bare specifiers: inline the allowed packages, leave every other package to node_modules at run time.
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      if (BUNDLED_PACKAGES.includes(packageName(args.path))) return undefined;
      return { path: args.path, external: true };
    });
    build.onLoad({ filter: /node_modules\/(commander|ws)\/lib\/[\w-]+\.js$/ }, async (args) => {
      const rel = args.path.slice(args.path.lastIndexOf("node_modules/"));
      const lines = LAZY_BUILTINS.filter((l) => l.file === rel);
      if (lines.length === 0) return undefined;
      let text = await readFile(args.path, "utf8");
      for (const { line } of lines) {
        if (!text.includes(line))
          throw new Error(`${rel} no longer contains ${line}: update LAZY_BUILTINS in scripts/build-cli.js`);
        text = text.replace(line, lazyRequire(line));
      }
      return { contents: text, loader: "js" };
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      let text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return undefined;
      text = text.replaceAll("import.meta.url", tscLocation(args.path, BUNDLE_URL));
      return { contents: text, loader: "ts" };
    });
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  sourcemap: true,
  keepNames: true,
  legalComments: "inline",
  logLevel: "warning",
};

export async function buildCli() {
  await rm(CLI_OUT, { recursive: true, force: true });
  await mkdir(CLI_OUT, { recursive: true });
  await writeFile(join(CLI_OUT, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  // The CLI: one CommonJS file (see the header).
  const bundle = await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, "src/cli/main.ts")],
    outfile: BUNDLE_OUT,
    format: "cjs",
    metafile: true,
    banner: { js: `const ${BUNDLE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    plugins: [cliPlugin],
  });
  // The bin: answers --version with nothing but the version constant inlined, else requires ./paseo.cjs.
  const bin = await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, "src/cli/bin.ts")],
    outfile: BIN_OUT,
    format: "cjs",
    metafile: true,
    define: { "import.meta.url": BUNDLE_URL },
    banner: { js: `const ${BUNDLE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    plugins: [
      {
        name: "bin-alone",
        setup(b) {
          b.onResolve({ filter: /^\.\/paseo\.cjs$/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
  const inputs = Object.keys(bin.metafile.inputs);
  if (inputs.some((p) => !/^src\/(cli\/bin|version)\.ts$/.test(p)))
    throw new Error(`the bin must stay alone, it pulls in: ${inputs.join(", ")}`);
  return { bundle: bundle.metafile, bin: bin.metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildCli().then(
    (m) => {
      const kib = (meta) => (Object.values(meta.outputs).find((o) => o.entryPoint).bytes / 1024).toFixed(0);
      process.stdout.write(
        `built ${BIN_OUT} (${kib(m.bin)} KiB) and ${BUNDLE_OUT} (${kib(m.bundle)} KiB) in ${Date.now() - started} ms\n`,
      );
    },
    (err) => {
      process.stderr.write(`build-cli: ${err.message}\n`);
      process.exit(1);
    },
  );
}
