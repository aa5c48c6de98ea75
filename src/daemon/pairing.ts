/**
 * Pairing: turn the daemon identity + relay + an offer record into an Offer (docs/protocol.md §3) and a link.
 * Only touches files (identity.json, offers.json, config.json), so it works whether or not the daemon runs.
 */
import type { RelayEndpoint } from "../client/relay-url.js";
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
  const pid = await readPid(home);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  const status = await readStatus(home);
  if (!status || status.pid !== pid) return undefined;
  return status.relay ? { endpoint: status.relay.endpoint, tls: status.relay.tls } : null;
}

/** Base URL of pairing links: config.publicUrl if set, else http(s)://<relay endpoint> (the relay serves the app). */
export function pairingBase(config: PaseoConfig, relay: RelayEndpoint): string {
  if (typeof config.publicUrl === "string" && config.publicUrl !== "") return config.publicUrl;
  return `${relay.tls ? "https" : "http"}://${relay.endpoint}`;
}

/** Build the Offer for a store record. Validated before it is returned (a bad relay endpoint fails here). */
export function buildOffer(
  identity: Pick<DaemonIdentity, "publicKey" | "serverId">,
  relay: RelayEndpoint,
  record: Pick<OfferRecord, "id" | "secretB64" | "expiresAt" | "label">,
  backend?: CryptoBackend,
): Offer {
  const offer: Offer = {
    v: 3,
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
  const running = options.relay ? undefined : await runningDaemonRelay(options.home);
  if (running === null) throw new NoRelayError(options.home);
  const relay = pairingRelay(config, options.relay, running);
  if (!isValidRelayEndpoint(relay.endpoint)) {
    throw new OfferError(`relay endpoint must be host:port (got "${describeInput(relay.endpoint)}")`);
  }
  const base = pairingBase(config, relay);
  const store = options.store ?? new OfferStore(options.home, { backend });
  const create: CreateOfferOptions = {};
  if (options.label !== undefined) create.label = options.label;
  if (options.ttlMs !== undefined) create.ttlMs = options.ttlMs;
  if (options.once !== undefined) create.once = options.once;
  let record: OfferRecord;
  let revoked: string[] = [];
  if (options.rotate) {
    ({ offer: record, revoked } = await store.rotate(create));
  } else {
    record = await store.createOffer(create);
  }
  const offer = buildOffer(identity, relay, record, backend);
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
