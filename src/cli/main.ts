#!/usr/bin/env node
/**
 * `paseo` — the CLI entry. A thin commander layer: each command lives in ./commands/<name>.ts and exports
 * `register(program)`. Exit codes: 0 ok, 1 failure, 2 usage; `exec`, `logs -f` and `attach` pass on the remote status and
 * use 255 for paseo's own failures (see ./exit-status.ts).
 */
// First import, so first to run: it hides a pairing link from this process's arguments (argv-scrub.ts). This file
// is the entry of the CommonJS bundle dist/cli/paseo.cjs (see ./bin.ts), whose modules run in import order, so the
// link is gone from /proc/<pid>/cmdline before commander or any command module runs; command modules are loaded
// only afterwards, and only the one named (./commands/index.ts).
import "./argv-scrub-early.js";
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { reportError } from "./output.js";
import { failureExitStatus, usageExitStatus, useRemoteStatusConvention } from "./exit-status.js";
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
  paseo daemon start                                  # on the machine to control: prints a pairing link
  paseo ls --relay "https://relay.example/#offer=…"   # from anywhere, with the link
  paseo daemon pair --save ~/paseo-offer.json         # a lasting link in a file (mode 0600)
  paseo logs -f <id> --relay ~/paseo-offer.json       # follow an agent's output
  PASEO_RELAY_OFFER="…" paseo ls                      # or take the offer from the environment`,
  );

// A reader that went away (`paseo ls | head -1`) ends us like SIGPIPE ends other Unix tools: quietly, status 141
// (128 + SIGPIPE), instead of an unhandled EPIPE stack trace. Node ignores SIGPIPE itself.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(141);
    throw err;
  });
}

// Before the subcommand parses its options, so that its usage errors already exit with its failure status.
program.hook("preSubcommand", (_program, sub) => {
  const follows = process.argv.some((a) => a === "--follow" || /^-[a-z]*f[a-z]*$/.test(a));
  if (sub.name() === "exec" || sub.name() === "attach" || (sub.name() === "logs" && follows))
    useRemoteStatusConvention();
});

// No top-level await: this module is the entry of the CommonJS bundle dist/cli/paseo.cjs (see ./bin.ts).
void (async () => {
  try {
    // Only the modules this command line needs (see ./commands/index.ts): start-up is most of a short command's time.
    await registerCommands(program, process.argv);
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : usageExitStatus();
    } else {
      reportError(err);
      process.exitCode = failureExitStatus();
    }
  }
})();
