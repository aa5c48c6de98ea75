#!/usr/bin/env node
/**
 * `paseo` — the CLI entry. A thin commander layer: each command lives in ./commands/<name>.ts and exports
 * `register(program)`. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./output.js";
import { redact } from "../protocol/redact.js";
import { PASEO_VERSION } from "../version.js";

const program = new Command();
program
  .name("paseo")
  .description("Control agents and long-running commands on a machine from anywhere, end-to-end encrypted.")
  .version(PASEO_VERSION)
  .showHelpAfterError()
  .exitOverride()
  // commander echoes rejected option values verbatim (e.g. a pairing link pasted into the wrong option): redact
  // every line it prints for every command, not per option.
  .configureOutput({ outputError: (text, write) => write(redact(text)) })
  .addHelpText(
    "after",
    `
Examples:
  paseo daemon start                                  # on the machine to control: prints a link and a QR code
  paseo ls --relay "https://relay.example/#offer=…"   # from anywhere, with the link
  paseo daemon pair --save ~/paseo-offer.json         # a lasting link in a file (mode 0600)
  paseo logs -f <id> --relay ~/paseo-offer.json       # follow an agent's output
  PASEO_RELAY_OFFER="…" paseo ls                      # or take the offer from the environment`,
  );

// No top-level await: this module is also the entry of the CommonJS bundle dist/cli/paseo.cjs (see ./bin.ts).
void (async () => {
  try {
    // Only the modules this command line needs (see ./commands/index.ts): start-up is most of a short command's time.
    await registerCommands(program, process.argv);
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else {
      reportError(err);
      process.exitCode = 1;
    }
  }
})();
