#!/usr/bin/env node
/**
 * `paseo` — the CLI entry. A thin commander layer: each command lives in ./commands/<name>.ts and exports
 * `register(program)`. Exit codes: 0 ok, 1 failure, 2 usage; `exec`, `logs -f` and `attach` pass on the remote status and
 * use 255 for paseo's own failures (see ./exit-status.ts).
 */
// The only static import: it hides a pairing link from this process's arguments (argv-scrub.ts). ES modules load
// and link the whole static import graph before any of it runs, so everything else is imported dynamically below —
// otherwise commander and every command would be parsed while the link is still readable in /proc/<pid>/cmdline.
import "./argv-scrub-early.js";

const { Command, CommanderError } = await import("commander");
const { registerCommands } = await import("./commands/index.js");
const { reportError } = await import("./output.js");
const { failureExitStatus, usageExitStatus, useRemoteStatusConvention } = await import("./exit-status.js");
const { redact } = await import("../protocol/redact.js");
const { PASEO_VERSION } = await import("../version.js");

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

registerCommands(program);
// Before the subcommand parses its options, so that its usage errors already exit with its failure status.
program.hook("preSubcommand", (_program, sub) => {
  const follows = process.argv.some((a) => a === "--follow" || /^-[a-z]*f[a-z]*$/.test(a));
  if (sub.name() === "exec" || sub.name() === "attach" || (sub.name() === "logs" && follows)) useRemoteStatusConvention();
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : usageExitStatus();
  } else {
    reportError(err);
    process.exitCode = failureExitStatus();
  }
}
