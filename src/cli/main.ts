#!/usr/bin/env node
/**
 * `paseo` — the CLI entry. A thin commander layer: each command lives in ./commands/<name>.ts and exports
 * `register(program)`. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./output.js";

const program = new Command();
program
  .name("paseo")
  .description("Control agents and long-running commands on a machine from anywhere, end-to-end encrypted.")
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    reportError(err);
    process.exitCode = 1;
  }
}
