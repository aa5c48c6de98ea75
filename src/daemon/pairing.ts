/**
 * Pairing: turn the daemon identity + relay + an offer record into an Offer (docs/protocol.md §3) and a link.
 * Only touches files (identity.json, offers.json, config.json), so it works whether or not the daemon runs.
 */
import { isLoopbackEndpoint, type RelayEndpoint } from "../protocol/relay-url.js";
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { toBase64Url } from "../protocol/encoding.js";
import { OfferError } from "../protocol/offer-errors.js";
import { type Offer, isValidRelayEndpoint, offerToLink, validateOffer } from "../protocol/offer.js";
import { describeInput } from "../protocol/redact.js";
import { PaseoError } from "../protocol/errors.js";
import { DEFAULT_EMBEDDED_RELAY, type PaseoConfig, isProcessAlive, loadConfig } from "./home.js";
import { type DaemonIdentity, loadOrCreateIdentity } from "./identity.js";
import { type CreateOfferOptions, type OfferRecord, OfferStore } from "./offer-store.js";
import { readPid, readStatus } from "./runtime-files.js";
import { appendAudit } from "./audit-log.js";
import { isLoopbackRelayHost, resolveRelayHost } from "./relay-host.js";

/**
 * The relay offers point at: explicit > the relay the running daemon actually uses > config.json's relay > the
 * embedded loopback relay on config.json's port (7431 by default) — what `paseo daemon start` would use.
 * `running` is runningDaemonRelay(): a link must reach the daemon that is running, whatever it was started with.
 */
export function pairingRelay(config: PaseoConfig, explicit?: RelayEndpoint, running?: RelayEndpoint): RelayEndpoint {
  if (explicit) return explicit;
  if (running) return running;
  if (config.relay) return config.relay;
  if (config.embeddedRelayPort !== undefined) return { endpoint: `127.0.0.1:${config.embeddedRelayPort}`, tls: false };
  return DEFAULT_EMBEDDED_RELAY;
}

export class NoRelayError extends PaseoError {
  constructor(home: string) {
    super(
      "NO_RELAY",
      `the daemon running with home ${home} has no relay (it was started with --no-relay), so no link can reach it; restart it without --no-relay, or pass --relay`,
    );
  }
}

/**
 * The relay of the daemon running with this home, from its status file: undefined when no daemon runs there (or its
 * status is not written yet), null when it runs without a relay.
 */
export async function runningDaemonRelay(home: string): Promise<RelayEndpoint | null | undefined> {
  const running = await runningDaemonLinkRelay(home);
  return running === undefined || running === null ? running : running.relay;
}

/**
 * runningDaemonRelay() plus whether that relay is the daemon's own embedded relay on the LAN: then links name its
 * advertised LAN endpoint (the daemon's own link to it is on loopback) and it serves the app (pairingBase).
 */
async function runningDaemonLinkRelay(
  home: string,
): Promise<{ relay: RelayEndpoint; lan: boolean } | null | undefined> {
  const pid = await readPid(home);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  const status = await readStatus(home);
  if (!status || status.pid !== pid) return undefined;
  const advertised = status.embeddedRelay?.advertised;
  if (advertised) return { relay: { endpoint: advertised.endpoint, tls: advertised.tls }, lan: true };
  return status.relay ? { relay: { endpoint: status.relay.endpoint, tls: status.relay.tls }, lan: false } : null;
}

/**
 * The LAN endpoint `paseo daemon start` would advertise with this config (embeddedRelayHost set, no relay), or
 * undefined. Resolved against the interfaces now: RelayHostError when the saved interface is gone.
 */
export function configuredLanRelay(config: PaseoConfig): RelayEndpoint | undefined {
  if (config.relay || isLoopbackRelayHost(config.embeddedRelayHost)) return undefined;
  const binding = resolveRelayHost(config.embeddedRelayHost, config.embeddedRelayAdvertise);
  if (!binding.lan) return undefined;
  const port = config.embeddedRelayPort ?? Number(DEFAULT_EMBEDDED_RELAY.endpoint.split(":")[1]);
  return { endpoint: `${binding.advertise}:${port}`, tls: false };
}

/**
 * The base of links when no app URL is configured and the relay is not on this machine. It is not a web address on
 * purpose: a link must never send a browser to a party the user does not trust (the relay), because whoever serves
 * the page reads the offer in its fragment. The CLI accepts these links as is; `paseo open` opens them in a browser.
 */
export const NO_APP_URL_BASE = "paseo://open";

/**
 * Base URL of pairing links (docs/protocol.md §1): the configured app URL (appUrl, or its older name publicUrl); else
 * the relay's own URL when the relay runs on this machine (loopback: the embedded relay, which serves the app, or
 * the user's own) or is the daemon's embedded relay that the user put on the LAN (`ownLanRelay`: `--relay-host`,
 * the only page a phone's browser can open for a ws:// relay); else NO_APP_URL_BASE — never a remote relay, which
 * may not be trusted with the page.
 */
export function pairingBase(config: PaseoConfig, relay: RelayEndpoint, ownLanRelay = false): string {
  const app = config.appUrl ?? config.publicUrl;
  if (typeof app === "string" && app !== "") return app;
  if (ownLanRelay || isLoopbackEndpoint(relay.endpoint)) return `${relay.tls ? "https" : "http"}://${relay.endpoint}`;
  return NO_APP_URL_BASE;
}

/** true when `link` has no app URL to open in a browser (see NO_APP_URL_BASE). */
export function hasNoAppUrl(link: string): boolean {
  return link.startsWith(`${NO_APP_URL_BASE}/`);
}

/** The hint printed under such a link. */
export const NO_APP_URL_HINT =
  "No app URL is set, so this link opens with `paseo open <link|file>` (serves the app from this machine) or the CLI; " +
  "for a phone, deploy dist/web to a static host you trust and set it with --app-url (see README).";

/** Build the Offer for a store record. Validated before it is returned (a bad relay endpoint fails here). */
export function buildOffer(
  identity: Pick<DaemonIdentity, "publicKey" | "serverId">,
  relay: RelayEndpoint,
  record: Pick<OfferRecord, "id" | "secretB64" | "expiresAt" | "label" | "ticket">,
  backend?: CryptoBackend,
): Offer {
  const offer: Offer = {
    v: record.ticket ? 4 : 3,
    serverId: identity.serverId,
    daemonPublicKeyB64: toBase64Url(identity.publicKey),
    relay: { endpoint: relay.endpoint, tls: relay.tls },
    offerId: record.id,
    secretB64: record.secretB64,
  };
  if (record.expiresAt !== undefined) offer.expiresAt = record.expiresAt;
  if (record.label !== undefined) offer.label = record.label;
  return validateOffer(offer, { allowExpired: true, ...(backend ? { backend } : {}) });
}

export interface CreatePairingOptions extends CreateOfferOptions {
  home: string;
  backend?: CryptoBackend;
  /** Overrides config.json's relay for this offer. */
  relay?: RelayEndpoint;
  /** `relay` is this daemon's embedded relay on the LAN (it serves the app: links point at it, pairingBase). */
  ownRelay?: boolean;
  /** Revoke every active offer before creating this one. */
  rotate?: boolean;
  /** Already loaded by a running daemon: skip reading identity.json again and share its offer store. */
  identity?: DaemonIdentity;
  store?: OfferStore;
}

export interface Pairing {
  offer: Offer;
  link: string;
  fingerprint: string;
  serverId: string;
  record: OfferRecord;
  /** true when this call created the daemon identity. */
  identityCreated: boolean;
  /** Offer ids revoked by --rotate. */
  revoked: string[];
}

/** Load/create the identity, create (or rotate to) a new offer and build its link. */
export async function createPairing(options: CreatePairingOptions): Promise<Pairing> {
  const backend = options.backend ?? (await loadDefaultBackend());
  const identity = options.identity ?? (await loadOrCreateIdentity(options.home, backend));
  const config = await loadConfig(options.home);
  const running = options.relay ? undefined : await runningDaemonLinkRelay(options.home);
  if (running === null) throw new NoRelayError(options.home);
  const lan = options.relay || running ? undefined : configuredLanRelay(config);
  const relay = lan ?? pairingRelay(config, options.relay, running?.relay);
  const ownLanRelay = options.relay ? options.ownRelay === true : lan !== undefined || running?.lan === true;
  if (!isValidRelayEndpoint(relay.endpoint)) {
    throw new OfferError(`relay endpoint must be host:port (got "${describeInput(relay.endpoint)}")`);
  }
  const base = pairingBase(config, relay, ownLanRelay);
  const store = options.store ?? new OfferStore(options.home, { backend });
  const create: CreateOfferOptions = {};
  if (options.label !== undefined) create.label = options.label;
  if (options.ttlMs !== undefined) create.ttlMs = options.ttlMs;
  if (options.once !== undefined) create.once = options.once;
  if (options.ticket) create.ticket = true;
  if (options.rights !== undefined) create.rights = options.rights;
  if (options.maxUses !== undefined) create.maxUses = options.maxUses;
  let record: OfferRecord;
  let revoked: string[] = [];
  if (options.rotate) {
    ({ offer: record, revoked } = await store.rotate(create));
  } else {
    record = await store.createOffer(create);
  }
  const offer = buildOffer(identity, relay, record, backend);
  // Ids, label and limits only: the offer's secret and its link never reach the audit log.
  for (const id of revoked) appendAudit(options.home, { event: "offer.revoked", offerId: id, by: "pair --rotate" });
  appendAudit(options.home, {
    event: "offer.created",
    offerId: record.id,
    label: record.label ?? null,
    once: record.once,
    expiresAt: record.expiresAt ?? null,
    ...(record.ticket ? { ticket: true, rights: record.rights ?? "control", maxUses: record.maxUses ?? null } : {}),
  });
  return {
    offer,
    link: offerToLink(offer, base),
    fingerprint: identity.fingerprint,
    serverId: identity.serverId,
    record,
    identityCreated: identity.created,
    revoked,
  };
}
