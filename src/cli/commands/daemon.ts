/** `paseo daemon …`: the daemon's commands. pair/offers come from ./pair.ts; start/stop/status are added here. */
import type { Command } from "commander";
import { registerPairCommands } from "./pair.js";
import { registerDaemonRunCommands } from "./daemon-run.js";
import { registerAuditCommands } from "./daemon-audit.js";
import { registerDeviceCommands } from "./daemon-devices.js";

export function register(program: Command): Command {
  const d = program
    .command("daemon")
    .description(
      "run and manage the daemon on this machine: start, stop, status, pairing, offers, devices, input, audit",
    );
  registerDaemonRunCommands(d);
  registerPairCommands(d);
  registerAuditCommands(d);
  registerDeviceCommands(d);
  return d;
}
