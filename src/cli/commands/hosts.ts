/**
 * `paseo hosts` — the daemons this machine is enrolled on as a device (hosts.json in the client config directory):
 * list, `add <name> <link|file>` (enroll with a ticket and save), `rm <name>`. Every client command then takes
 * `--host <name>` (or PASEO_HOST).
 */
import type { Command } from "commander";
import { resolveOffer } from "../../client/offer-resolve.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import { connectWithTicket, sayEnrolled } from "../hosts/enroll.js";
import { checkHostName, HostStore, summarize } from "../hosts/host-store.js";
import { info, printJson, table } from "../output.js";

export function register(program: Command): void {
  const hosts = program
    .command("hosts")
    .description("saved hosts: daemons this machine is enrolled on (use one with --host <name> or PASEO_HOST)")
    .option("--json", "print the hosts as JSON (never the device keys)")
    .action(async (flags: { json?: boolean }) => {
      const store = HostStore.open();
      const all = await store.list();
      if (flags.json) return printJson(all.map(summarize));
      if (all.length === 0) {
        process.stdout.write("No saved hosts. Add one with `paseo hosts add <name> <link|file>`.\n");
        return;
      }
      const rows = all.map((h) => [
        h.name,
        h.serverId,
        `${h.relay.tls ? "wss" : "ws"}://${h.relay.endpoint}`,
        h.deviceId ?? "(enrolling)",
        h.rights ?? "",
        h.enrolledAt ?? "",
        h.sas ?? "",
      ]);
      process.stdout.write(
        `${table(["NAME", "SERVER", "RELAY", "DEVICE", "RIGHTS", "ENROLLED", "CODE"], rows).split("\n").map(escapeControls).join("\n")}\n`,
      );
    });

  hosts
    .command("add")
    .description("enroll this machine on a daemon with a link from `paseo daemon pair` and save it under <name>")
    .argument("<name>", "a short name for the host (letters, digits, . _ -)")
    .argument("<link|file>", "the enrollment link, or a file holding it (e.g. from `paseo daemon pair --save`)")
    .option("--json", "print the saved host as JSON (never the device key)")
    .action(async (name: string, source: string, flags: { json?: boolean }) => {
      checkHostName(name);
      const resolved = await resolveOffer({ relay: source, env: {} });
      if (!resolved) throw new PaseoError("USAGE", "give the link (or a file holding it) from `paseo daemon pair`");
      const store = HostStore.open();
      const result = await connectWithTicket(store, resolved.offer, { connectTimeoutMs: 10_000 }, { name });
      result.client.close();
      if (flags.json) printJson(summarize(result.host));
      if (result.completed) sayEnrolled(result);
      else info(`already saved as ${escapeControls(result.host.name)} (device ${result.host.deviceId})`);
    });

  hosts
    .command("rm")
    .description(
      "forget a saved host and its device key (revoke the device on the daemon too: `paseo daemon devices revoke`)",
    )
    .argument("<name>", "as shown by `paseo hosts`")
    .action(async (name: string) => {
      const removed = await HostStore.open().remove(name);
      info(
        `forgot ${escapeControls(removed.name)}${removed.deviceId ? `; on that machine, \`paseo daemon devices revoke ${removed.deviceId}\` removes the device there too` : ""}`,
      );
    });
}
