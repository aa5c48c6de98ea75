/**
 * `paseo daemon devices` — the devices enrolled on this daemon (devices.json): list, `revoke <id>`, `set <id>
 * --read-only|--control`. Like `offers`, these only touch files under PASEO_HOME, so they work whether or not the
 * daemon runs; a running daemon sees devices.json change through its home-directory watch and closes a revoked
 * device's sessions at once (4114) or applies new rights to its next request (src/daemon/device-sessions.ts).
 */
import type { Command } from "commander";
import { appendAudit } from "../../daemon/audit-log.js";
import { DeviceStore } from "../../daemon/device-store.js";
import { resolveHome } from "../../daemon/home.js";
import type { DeviceInfo } from "../../protocol/device.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import { info, printJson, table } from "../output.js";

interface Flags {
  home?: string;
  json?: boolean;
}

/** What `--json` shows of a device: everything but the public key (not secret, but noise for a reader). */
function shown(d: DeviceInfo): Omit<DeviceInfo, "publicKeyB64"> {
  const { publicKeyB64: _key, ...rest } = d;
  void _key;
  return rest;
}

async function list(flags: Flags): Promise<void> {
  const devices = await new DeviceStore(resolveHome(flags.home)).list();
  if (flags.json) return printJson(devices.map(shown));
  if (devices.length === 0) {
    process.stdout.write("No enrolled devices. Enroll one with a link from `paseo daemon pair`.\n");
    return;
  }
  const rows = devices.map((d) => [
    d.id,
    escapeControls(d.label),
    d.rights,
    d.state === "revoked" ? `revoked ${d.revokedAt ?? ""}` : "active",
    d.enrolledAt,
    d.offerId ?? "",
    d.lastSeenAt ?? "never",
    d.lastSeenFrom ?? "",
    d.sas,
  ]);
  process.stdout.write(
    `${table(["ID", "LABEL", "RIGHTS", "STATE", "ENROLLED", "VIA OFFER", "LAST SEEN", "FROM", "CODE"], rows)}\n`,
  );
  process.stdout.write("CODE = the code the device showed when it enrolled: if they differ, revoke the device.\n");
}

export function registerDeviceCommands(d: Command): void {
  const devices = d
    .command("devices")
    .description("list enrolled devices (rights, last seen, enrollment code); `devices revoke|set <id>` changes one")
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--json", "print the devices as JSON")
    .action(async (_opts: unknown, cmd: Command) => list(cmd.optsWithGlobals<Flags>()));

  devices
    .command("revoke")
    .description(
      "revoke a device by id, unique id prefix or label: its live sessions close at once, its key is refused",
    )
    .argument("<id|label>", "as shown by `paseo daemon devices`")
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--json", "print the revoked device as JSON")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags>();
      const home = resolveHome(flags.home);
      const { device, changed } = await new DeviceStore(home).revoke(ref);
      if (changed) appendAudit(home, { event: "device.revoked", deviceId: device.id, label: device.label });
      if (flags.json) return printJson(shown(device));
      info(
        changed
          ? `Revoked device ${device.id} (${escapeControls(device.label)}): its sessions are closed and its key refused.`
          : `Device ${device.id} (${escapeControls(device.label)}) was already revoked at ${device.revokedAt}.`,
      );
    });

  devices
    .command("set")
    .description("change a device's rights: --read-only (watch only) or --control (everything)")
    .argument("<id|label>", "as shown by `paseo daemon devices`")
    .option("--read-only", "info, ls, logs and watching terminals; never run, send, stop, exec or terminal input")
    .option("--control", "everything")
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--json", "print the device as JSON")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<Flags & { readOnly?: boolean; control?: boolean }>();
      if (flags.readOnly === flags.control)
        throw new PaseoError("USAGE", "say which rights: `paseo daemon devices set <id> --read-only` or `--control`");
      const rights = flags.readOnly ? "read-only" : "control";
      const home = resolveHome(flags.home);
      const { device, changed } = await new DeviceStore(home).setRights(ref, rights);
      if (changed) appendAudit(home, { event: "device.rights", deviceId: device.id, rights });
      if (flags.json) return printJson(shown(device));
      info(
        changed
          ? `Device ${device.id} (${escapeControls(device.label)}) now has ${rights} rights (live sessions included).`
          : `Device ${device.id} (${escapeControls(device.label)}) already has ${rights} rights.`,
      );
    });
}
