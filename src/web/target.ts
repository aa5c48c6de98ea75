/**
 * What the daemon screen connects with — one of three credentials (docs/protocol.md §6, hello versions):
 *
 *   "offer"   a v3 bearer link (0x01): connects as soon as the page opens, as before devices existed;
 *   "enroll"  a v4 ticket (0x03) the user chose to spend by tapping "Enroll": the fresh device key rides along;
 *   "device"  a remembered daemon (0x02): this browser's own device key, no link at all.
 *
 * A v4 ticket never becomes a target on its own: main.ts shows the enroll offer first (a link previewer opening the
 * URL must not spend a single-use ticket).
 */
import type { DaemonClientOptions, Offer, RelayEndpoint } from "../index.js";
import type { RememberedDevice } from "./device-store.js";

export type Target =
  | { kind: "offer"; offer: Offer }
  | { kind: "enroll"; offer: Offer; deviceKeyB64: string; remember: boolean }
  | { kind: "device"; device: RememberedDevice };

export function serverIdOf(t: Target): string {
  return t.kind === "device" ? t.device.serverId : t.offer.serverId;
}

export function relayOf(t: Target): RelayEndpoint {
  return t.kind === "device" ? t.device.relay : t.offer.relay;
}

/** What to call the daemon before its welcome names it. */
export function nameOf(t: Target): string | undefined {
  return t.kind === "device" ? (t.device.name ?? t.device.serverId.slice(0, 8)) : t.offer.label;
}

export function clientOptionsOf(t: Target): DaemonClientOptions {
  switch (t.kind) {
    case "offer":
      return { offer: t.offer, reconnect: true };
    case "enroll":
      return { offer: t.offer, enroll: { deviceKeyB64: t.deviceKeyB64 }, reconnect: true };
    case "device": {
      const d = t.device;
      return {
        device: {
          serverId: d.serverId,
          daemonPublicKeyB64: d.daemonPublicKeyB64,
          relay: d.relay,
          deviceKeyB64: d.deviceKeyB64,
        },
        reconnect: true,
      };
    }
  }
}
