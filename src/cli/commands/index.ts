/** Registers every command module. Each module exports `register(program: Command): void`. */
import type { Command } from "commander";
import { register as registerDaemon } from "./daemon.js";
import { register as registerClient } from "./client.js";
import { register as registerRelay } from "./relay.js";
import { register as registerAttach } from "./attach.js";
import { register as registerOpen } from "./open.js";

export function registerCommands(program: Command): void {
  registerClient(program);
  registerAttach(program);
  registerDaemon(program);
  registerRelay(program);
  registerOpen(program);
}
