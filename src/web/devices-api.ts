/**
 * The device names of the client library (docs/notes DEVICES-CONTRACT, issue 16) as this app uses them, in one
 * place. Branch `devices` adds them to src/client and src/protocol (DaemonClientOptions `device` / `enroll`,
 * `client.session`, the `enrolled` event, offers `v: 4`, `deviceIdOf`); this branch was written before those landed,
 * so it reaches them through the narrow structural types below. After `git merge devices`, replace these with
 * the real imports (src/protocol/device.ts) and delete this file — nothing else in src/web needs to change.
 */
import type { DaemonClient, DaemonClientOptions, Offer, RelayEndpoint } from "../index.js";
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { concatBytes, toBase32, utf8 } from "../protocol/encoding.js";

export type Rights = "control" | "read-only";

/** SessionInfo of the welcome (contract: kind, rights, deviceId, offerId, enrolled). */
export interface SessionView {
  kind: "local" | "offer" | "device";
  rights: Rights;
  deviceId: string | null;
}

export interface DeviceCredentialView {
  serverId: string;
  daemonPublicKeyB64: string;
  relay: RelayEndpoint;
  deviceKeyB64: string;
}

export interface EnrolledEvent {
  deviceId: string;
  rights: Rights;
  sas: string;
  label: string;
}

/** A v4 offer is an enrollment ticket (0x03): it may only be spent by an explicit tap. */
export function isTicket(offer: Offer): boolean {
  return (offer as { v: number }).v === 4;
}

export function enrollOptions(offer: Offer, deviceKeyB64: string): DaemonClientOptions {
  return { offer, enroll: { deviceKeyB64 }, reconnect: true } as DaemonClientOptions;
}

export function deviceOptions(device: DeviceCredentialView): DaemonClientOptions {
  return { device, reconnect: true } as unknown as DaemonClientOptions;
}

/** The live session's SessionInfo; undefined before a welcome or from a daemon older than devices. */
export function sessionOf(client: DaemonClient): SessionView | undefined {
  return (client as unknown as { session?: SessionView }).session;
}

/** Subscribe to `enrolled` (fires once, in the handshake that enrolled this device). Returns the unsubscribe. */
export function onEnrolled(client: DaemonClient, fn: (e: EnrolledEvent) => void): () => void {
  const on = (client as unknown as { on(name: string, fn: (e: EnrolledEvent) => void): () => void }).on;
  return on.call(client, "enrolled", fn);
}

/**
 * deviceId = base32lower(SHA-256("paseo/device-id/v1" ‖ devicePublicKey)[0..10]) — the contract's formula, shown
 * before enrolling (the daemon labels an unlabelled ticket's device `device <id prefix>`). Replace with
 * src/protocol/device.ts deviceIdOf after the merge.
 */
export function deviceIdOf(backend: Pick<CryptoBackend, "hash">, publicKey: Uint8Array): string {
  return toBase32(backend.hash("SHA256", concatBytes(utf8("paseo/device-id/v1"), publicKey)).subarray(0, 10));
}
