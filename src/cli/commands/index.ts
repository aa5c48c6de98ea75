/**
 * The command table. Each command module exports `register(program: Command): void`; a module is imported only when
 * the command line names one of its commands, so `paseo ls` never runs the daemon's, the relay's or pairing's code
 * (in the bundle, dist/cli/paseo.cjs, a module's initialiser runs on its first import; ../bin.ts answers
 * `--version` before any of this is read).
 *
 * The `commands` lists are an optimisation, never the source of truth: a name that is in no list (a new command
 * someone forgot to add here, `help`, a typo) loads every module, and commander then runs it or reports it
 * unknown, exactly as with eager registration. test/cli/command-table.test.ts checks the lists against what each
 * module actually registers.
 */
import type { Command } from "commander";

export interface CommandModule {
  /** Top-level command names the module registers. */
  readonly commands: readonly string[];
  readonly load: () => Promise<{ register(program: Command): void }>;
}

/** In help order. */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { commands: ["ls", "info", "run", "logs", "send", "stop", "exec"], load: () => import("./client.js") },
  { commands: ["attach"], load: () => import("./attach.js") },
  { commands: ["daemon"], load: () => import("./daemon.js") },
  { commands: ["relay"], load: () => import("./relay.js") },
  { commands: ["open"], load: () => import("./open.js") },
  { commands: ["mcp"], load: () => import("./mcp.js") },
  { commands: ["hosts"], load: () => import("./hosts.js") },
];

/**
 * The command name in `argv` (process.argv: node, script, …): the first argument that is not an option. The
 * program's own options (--version, --help) take no value, so nothing after an option can be mistaken for it.
 */
export function commandName(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith("-"));
}

/** The modules `argv` needs: the one owning its command, else (no command: `paseo --help`; unknown name) all. */
export function modulesFor(argv: readonly string[]): readonly CommandModule[] {
  const name = commandName(argv);
  const owner = name === undefined ? undefined : COMMAND_MODULES.find((m) => m.commands.includes(name));
  return owner ? [owner] : COMMAND_MODULES;
}

/** Registers the command modules `argv` needs (all of them when `argv` is omitted). */
export async function registerCommands(program: Command, argv?: readonly string[]): Promise<void> {
  const modules = argv ? modulesFor(argv) : COMMAND_MODULES;
  const loaded = await Promise.all(modules.map((m) => m.load()));
  for (const mod of loaded) mod.register(program);
}
