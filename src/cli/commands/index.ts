/** Registers every command module. Each module exports `register(program: Command): void`. */
import type { Command } from "commander";

export function registerCommands(program: Command): void {
  void program;
}
