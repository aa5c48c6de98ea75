#!/usr/bin/env node
/**
 * The process entry of the bundled CLI (scripts/build-cli.js builds it into dist/cli/main.js, the package's `bin`).
 * `paseo --version` is answered here, before commander or any command module is loaded: it is what scripts and
 * version checks run, and it should cost no more than starting Node. Everything else is ./main.ts.
 */
import { PASEO_VERSION } from "../version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${PASEO_VERSION}\n`);
} else {
  await import("./main.js");
}
