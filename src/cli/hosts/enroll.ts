/**
 * Enrolling this machine as a device on a daemon, for `paseo hosts add <name> <link>` and for any client command
 * given a ticket with `--relay` / PASEO_RELAY_OFFER (docs/protocol.md §6, hello 0x03). The key is generated here
 * and saved (hosts.json) before the handshake; the enrollment is finished before the command runs, so the host is
 * saved with its device id and the user sees the code to compare once.
 */
import { DaemonClient, type DaemonClientOptions, type EnrolledEvent } from "../../client/daemon-client.js";
import { loadDefaultBackend } from "../../protocol/crypto/select.js";
import { toBase64Url } from "../../protocol/encoding.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import type { Offer } from "../../protocol/offer.js";
import { info } from "../output.js";
import { credentialOf, type HostStore, HostStoreError, type SavedHost } from "./host-store.js";

/** Refusals that mean the daemon recorded nothing: a key saved for this attempt can go. */
const NOTHING_RECORDED = new Set(["OFFER_EXPIRED", "OFFER_REVOKED", "DEVICE_REVOKED", "DEVICE_LIMIT"]);

export type ClientTuning = Pick<DaemonClientOptions, "reconnect" | "requestTimeoutMs" | "connectTimeoutMs">;

export interface Enrolled {
  client: DaemonClient;
  host: SavedHost;
  /** Set when this run's handshake enrolled the device. */
  enrolled?: EnrolledEvent;
  /** This run completed the enrollment record (false: the daemon was already saved with its device id). */
  completed: boolean;
}

/**
 * Connect with `offer`: as the saved device when this daemon is already saved, else enroll a new key (saved under
 * `name`, or a free name from the offer's label). Connected when it returns, unless the device was already saved.
 */
export async function connectWithTicket(
  store: HostStore,
  offer: Offer,
  tuning: ClientTuning,
  options: { name?: string } = {},
): Promise<Enrolled> {
  const saved = await store.findByServerId(offer.serverId);
  if (saved && options.name !== undefined && saved.name !== options.name)
    throw new HostStoreError(
      "HOST_EXISTS",
      `this daemon is already saved as "${saved.name}": use --host ${saved.name} (or \`paseo hosts rm ${saved.name}\` first)`,
    );
  if (saved?.deviceId) {
    // Lazy: the command's first read-only request rides in the handshake (one round trip).
    return { client: new DaemonClient({ device: credentialOf(saved), ...tuning }), host: saved, completed: false };
  }
  let host = saved;
  if (!host) {
    const backend = await loadDefaultBackend();
    const name = options.name ?? (await store.freeName(offer.label ?? offer.serverId.slice(0, 8)));
    host = {
      name,
      serverId: offer.serverId,
      daemonPublicKeyB64: offer.daemonPublicKeyB64,
      relay: { ...offer.relay },
      deviceKeyB64: toBase64Url(backend.generateKeyPair().secretKey),
      ...(offer.label !== undefined ? { label: offer.label } : {}),
    };
    await store.save(host, { replace: false });
  }
  const client = new DaemonClient({
    offer,
    // A saved record without a device id: an earlier attempt may have enrolled this key already.
    enroll: { deviceKeyB64: host.deviceKeyB64, maybeEnrolled: saved !== undefined },
    ...tuning,
  });
  let enrolled: EnrolledEvent | undefined;
  client.on("enrolled", (e) => {
    enrolled = e;
  });
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if (err instanceof PaseoError && NOTHING_RECORDED.has(err.code) && !saved)
      await store.remove(host.name).catch(() => {});
    throw err;
  }
  const session = client.session!;
  host = {
    ...host,
    deviceId: session.deviceId!,
    rights: session.rights,
    enrolledAt: new Date().toISOString(),
    ...(enrolled ? { sas: enrolled.sas } : {}),
  };
  await store.save(host);
  return { client, host, completed: true, ...(enrolled ? { enrolled } : {}) };
}

/** The one line a user reads after enrolling (stderr): who, as what, and the code to compare. */
export function sayEnrolled(result: Enrolled): void {
  const { host, enrolled } = result;
  const id = host.deviceId!;
  if (enrolled)
    info(
      `enrolled this device on ${escapeControls(host.name)} as ${id} (${host.rights}); compare code ${enrolled.sas} with \`paseo daemon devices\` on that machine — next time: --host ${escapeControls(host.name)}`,
    );
  else
    info(
      `this device was already enrolled on ${escapeControls(host.name)} as ${id} (${host.rights}); saved as --host ${escapeControls(host.name)}`,
    );
}
