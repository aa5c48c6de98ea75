/**
 * Enrolled devices of this daemon (issue 16; docs/protocol.md §6): the API the CLI (`paseo daemon devices`, revoke,
 * set) and the running daemon (enrollment, the 0x02 hello's lookup, last seen) share, over devices.json as a
 * StoreFile (cached reads, locked atomic 0600 writes). A revoke or rights change written by the CLI reaches the
 * daemon through the home-directory watch (device-sessions.ts), like offer revokes.
 *
 * "Last seen" is kept in memory and written at most every SEEN_FLUSH_MS (and on shutdown): a reconnect storm after a
 * relay restart must not become one fsync'd rewrite of devices.json per device.
 */
import type { DeviceInfo, DeviceRights } from "../protocol/device.js";
import { describeInput } from "../protocol/redact.js";
import { offerLabelProblem } from "../protocol/offer-label.js";
import {
  DEVICES_FILE,
  DeviceStoreError,
  devicesFileCorrupt,
  parseDevicesFile,
  pruneRevoked,
  serializeDevicesFile,
} from "./devices-file-format.js";
import { StoreFile } from "./store-file.js";

export { DEVICES_FILE, DeviceStoreError, type DeviceStoreErrorCode } from "./devices-file-format.js";

export const SEEN_FLUSH_MS = 5000;
/** Active devices per daemon (docs/protocol.md §10): beyond it an enrollment is refused with 4116, nothing spent. */
export const MAX_ACTIVE_DEVICES = 1000;

export interface NewDevice {
  id: string;
  publicKeyB64: string;
  label: string;
  rights: DeviceRights;
  offerId: string;
  sas: string;
  from: string | null;
}

/** `created: false` = this key was already enrolled (a retried or replayed enrollment): nothing changed. */
export type EnrollResult = { device: DeviceInfo; created: boolean } | { refused: "revoked" };

export class DeviceStore {
  readonly home: string;
  readonly path: string;
  private readonly file: StoreFile<DeviceInfo>;
  private readonly pendingSeen = new Map<string, { at: string; from: string | null }>();
  private seenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    home: string,
    private readonly clock: () => number = Date.now,
    private readonly maxActive: number = MAX_ACTIVE_DEVICES,
  ) {
    this.home = home;
    this.file = new StoreFile(
      home,
      DEVICES_FILE,
      {
        parse: parseDevicesFile,
        serialize: serializeDevicesFile,
        prune: pruneRevoked,
        corrupt: devicesFileCorrupt,
        unreadable: (_path, message, cause) => new DeviceStoreError("DEVICE_STORE_UNREADABLE", message, { cause }),
      },
      clock,
    );
    this.path = this.file.path;
  }

  /** Every device (active and revoked), oldest first, with unwritten "last seen" applied. */
  async list(): Promise<DeviceInfo[]> {
    const devices = await this.file.load();
    return [...devices]
      .sort((a, b) => Date.parse(a.enrolledAt) - Date.parse(b.enrolledAt))
      .map((d) => this.withSeen(d));
  }

  /** The device holding this public key, if enrolled (active or revoked). Re-reads only a changed file. */
  async byKey(publicKeyB64: string): Promise<DeviceInfo | undefined> {
    return (await this.file.load()).find((d) => d.publicKeyB64 === publicKeyB64);
  }

  /** Whether the maximum of active devices (MAX_ACTIVE_DEVICES by default) is enrolled (a cached read unless the file changed). */
  async full(): Promise<boolean> {
    let active = 0;
    for (const d of await this.file.load()) if (d.state === "active") active++;
    return active >= this.maxActive;
  }

  /** The records as they are on disk now, for the live-session checks. */
  current(): Promise<DeviceInfo[]> {
    return this.file.load();
  }

  /** Record a device enrolled with a ticket; idempotent for a key already enrolled; a revoked key stays revoked. */
  async enroll(device: NewDevice): Promise<EnrollResult> {
    const label = offerLabelProblem(device.label) === undefined ? device.label : `device ${device.id.slice(0, 6)}`;
    return this.file.update((devices, now): EnrollResult => {
      const existing = devices.find((d) => d.publicKeyB64 === device.publicKeyB64);
      if (existing?.state === "revoked") return { refused: "revoked" };
      if (existing) return { device: { ...existing }, created: false };
      const at = new Date(now).toISOString();
      const record: DeviceInfo = {
        id: device.id,
        publicKeyB64: device.publicKeyB64,
        label,
        rights: device.rights,
        enrolledAt: at,
        offerId: device.offerId,
        sas: device.sas,
        lastSeenAt: at,
        lastSeenFrom: device.from,
        state: "active",
      };
      devices.push(record);
      return { device: { ...record }, created: true };
    });
  }

  /** Note that a device connected (written within SEEN_FLUSH_MS). */
  seen(id: string, from: string | null): void {
    this.pendingSeen.set(id, { at: new Date(this.clock()).toISOString(), from });
    this.seenTimer ??= setTimeout(() => {
      this.seenTimer = undefined;
      this.flush().catch(() => {}); // kept pending; retried at the next connection or on shutdown
    }, SEEN_FLUSH_MS);
    this.seenTimer.unref?.();
  }

  async flush(): Promise<void> {
    if (this.seenTimer) clearTimeout(this.seenTimer);
    this.seenTimer = undefined;
    if (this.pendingSeen.size === 0) return;
    const batch = new Map(this.pendingSeen);
    this.pendingSeen.clear();
    try {
      await this.file.update((devices) => {
        for (const d of devices) {
          const seen = batch.get(d.id);
          if (seen) {
            d.lastSeenAt = seen.at;
            d.lastSeenFrom = seen.from;
          }
        }
      });
    } catch (err) {
      for (const [id, seen] of batch) if (!this.pendingSeen.has(id)) this.pendingSeen.set(id, seen);
      throw err;
    }
  }

  /** Revoke by id, unambiguous id prefix (≥ 4 characters) or the label of an active device. */
  async revoke(ref: string): Promise<{ device: DeviceInfo; changed: boolean }> {
    return this.file.update((devices, now) => {
      const device = find(devices, ref);
      const changed = device.state !== "revoked";
      if (changed) {
        device.state = "revoked";
        device.revokedAt = new Date(now).toISOString();
      }
      return { device: { ...device }, changed };
    });
  }

  async setRights(ref: string, rights: DeviceRights): Promise<{ device: DeviceInfo; changed: boolean }> {
    return this.file.update((devices) => {
      const device = find(devices, ref, true);
      const changed = device.rights !== rights;
      device.rights = rights;
      return { device: { ...device }, changed };
    });
  }

  private withSeen(d: DeviceInfo): DeviceInfo {
    const seen = this.pendingSeen.get(d.id);
    return seen ? { ...d, lastSeenAt: seen.at, lastSeenFrom: seen.from } : { ...d };
  }
}

function find(devices: DeviceInfo[], ref: string, activeOnly = false): DeviceInfo {
  const pool = activeOnly ? devices.filter((d) => d.state === "active") : devices;
  const exact = pool.find((d) => d.id === ref);
  if (exact) return exact;
  const matches = pool.filter(
    (d) => (ref.length >= 4 && d.id.startsWith(ref)) || (d.label === ref && d.state === "active"),
  );
  if (matches.length === 1) return matches[0]!;
  const shown = describeInput(ref).slice(0, 40);
  if (matches.length > 1) {
    const ids = matches.map((d) => `${d.id} (${describeInput(d.label)})`).join(", ");
    throw new DeviceStoreError("DEVICE_AMBIGUOUS", `"${shown}" matches ${matches.length} devices: ${ids}; use its id`);
  }
  throw new DeviceStoreError(
    "DEVICE_NOT_FOUND",
    `no ${activeOnly ? "active " : ""}device with id "${shown}" and none labelled so (see \`paseo daemon devices\`)`,
  );
}
