/**
 * "Remember this daemon on this device", per kind of target (target.ts):
 *
 *   offer   (v3 bearer link) the offer in localStorage, as before devices (offer-source.ts);
 *   enroll  nothing until the daemon confirms the enrollment; then this browser's device key in IndexedDB
 *           (device-store.ts) if the user kept the box ticked — never the ticket;
 *   device  already stored; unticking forgets the key (it stays in this tab's memory until the tab closes, so
 *           ticking again saves it back).
 */
import type { EnrolledEvent, ServerInfo } from "../index.js";
import type { DeviceRights } from "../protocol/device.js";
import { forgetDevice, saveDevice, updateDevice, type RememberedDevice } from "./device-store.js";
import { forget, isRemembered, remember } from "./offer-source.js";
import type { Target } from "./target.js";

/** What the handshake that enrolled this device told the client (DaemonClient's `enrolled` event). */
export type EnrolledInfo = EnrolledEvent;

export interface RememberPolicy {
  /** Whether the box starts ticked. */
  readonly remembered: boolean;
  /** The user ticked or unticked the box. Resolves false when the browser refuses storage. */
  set(on: boolean, server: ServerInfo | undefined): Promise<boolean>;
  /** A welcome or server.info: refresh the stored name and fingerprint. */
  onServer(server: ServerInfo): void;
  /** The handshake enrolled this device: from now on it is a device target. Rejects when storing failed. */
  onEnrolled(info: EnrolledInfo, server: ServerInfo | undefined): Promise<RememberedDevice>;
  /** The daemon reported other rights for this device (`paseo daemon devices set`): keep the stored copy true. */
  onRights(rights: DeviceRights): void;
  /** The device credential, once there is one (device targets, enroll after the daemon confirmed). */
  readonly device: RememberedDevice | undefined;
}

export function rememberPolicy(target: Target, rememberOffer: boolean): RememberPolicy {
  let device: RememberedDevice | undefined = target.kind === "device" ? target.device : undefined;
  let remembered =
    target.kind === "offer"
      ? rememberOffer || isRemembered(target.offer.serverId)
      : target.kind === "enroll"
        ? target.remember
        : true;
  const details = (server: ServerInfo | undefined) =>
    server ? { name: server.hostname, fingerprint: server.fingerprint } : {};
  if (target.kind === "offer" && rememberOffer) remember(target.offer);

  return {
    get remembered() {
      return remembered;
    },
    get device() {
      return device;
    },
    async set(on, server) {
      if (target.kind === "offer") {
        if (!on) forget(target.offer.serverId);
        else if (!remember(target.offer, details(server))) return false;
        remembered = on;
        return true;
      }
      if (device === undefined) {
        // Not enrolled yet (the enrollment handshake is under way): the choice applies when it completes.
        remembered = on;
        return true;
      }
      if (on) await saveDevice({ ...device, ...details(server) });
      else await forgetDevice(device.serverId);
      remembered = on;
      return true;
    },
    onServer(server) {
      if (target.kind === "offer") {
        if (isRemembered(target.offer.serverId)) remember(target.offer, details(server));
        return;
      }
      if (device) device = { ...device, ...details(server) };
      if (remembered && device) void updateDevice(device.serverId, details(server)).catch(() => undefined);
    },
    onRights(rights) {
      if (!device) return;
      device = { ...device, rights };
      if (remembered) void updateDevice(device.serverId, { rights }).catch(() => undefined);
    },
    async onEnrolled(info, server) {
      if (target.kind !== "enroll") throw new Error("onEnrolled on a target that does not enroll");
      const o = target.offer;
      device = {
        serverId: o.serverId,
        daemonPublicKeyB64: o.daemonPublicKeyB64,
        relay: o.relay,
        deviceKeyB64: target.deviceKeyB64,
        deviceId: info.deviceId,
        rights: info.rights,
        label: info.label,
        sas: info.sas,
        enrolledAt: new Date().toISOString(),
        ...details(server),
      };
      if (remembered) await saveDevice(device);
      return device;
    },
  };
}
