#!/usr/bin/env node
/**
 * The process entry of the built CLI: scripts/build-cli.js bundles this file alone into dist/cli/main.js (the
 * package's `bin`) and the rest of the CLI (./main.ts and everything it reaches) into dist/cli/paseo.cjs.
 *
 * `paseo --version` is answered here, before the CLI bundle is even read: it is what scripts and version checks
 * run, and it should cost no more than starting Node. Everything else loads the bundle. Both are CommonJS (in
 * dist/cli/, which has its own package.json): one CommonJS file starts faster than a graph of ES modules (no
 * ES module loader to start, no per-module resolution); the bundle's command modules are evaluated only when their
 * command is named (./commands/index.ts).
 */
import { createRequire } from "node:module";
import { PASEO_VERSION } from "../version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${PASEO_VERSION}\n`);
} else {
  createRequire(import.meta.url)("./paseo.cjs");
}
