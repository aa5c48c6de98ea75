/**
 * Pairing offer codec (docs/protocol.md §3). PURE: no fs, no Node built-ins — it runs unchanged in browsers.
 *
 * An offer is versioned JSON (v: 3). It travels as
 *   - a link   `<base>/#offer=<base64url(JSON), no padding>` (the fragment never reaches a server),
 *   - bare base64url of the JSON,
 *   - the JSON text itself.
 * Reading from files or environment variables lives in src/client/offer-resolve.ts.
 *
 * Validation is strict (exact lengths, serverId re-derived from the key, boolean tls, host:port endpoint, no unknown
 * fields). Every error names what is wrong and never contains the secret or the link.
 */
import { type CryptoBackend, KEY_LEN } from "./crypto/backend.js";
import { OFFER_ID_LEN } from "./handshake.js";
import { PSK_LEN } from "./noise/index.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding.js";
import { OfferError, OfferExpiredError, OfferVersionError } from "./offer-errors.js";
import { offerLabelProblem } from "./offer-label.js";
import { describeInput } from "./redact.js";
import { deriveServerId, SERVER_ID_RE } from "./server-id.js";
import type { RelayEndpoint } from "./relay-url.js";

export const OFFER_VERSION = 3;
/** v4: an enrollment ticket (issue 16, §3): same fields as v3, used only in a 0x03 hello to enroll a device key. */
export const TICKET_OFFER_VERSION = 4;
export { MAX_OFFER_LABEL_CHARS } from "./offer-label.js";
/** Longest text parseOffer() looks at. A real offer link is well under 1 KiB. */
export const MAX_OFFER_TEXT_CHARS = 64 * 1024;
export const OFFER_FRAGMENT = "#offer=";

export interface Offer {
  /** 3 = bearer offer (hello 0x01); 4 = enrollment ticket (hello 0x03). */
  v: 3 | 4;
  /** 26 base32 characters, derived from daemonPublicKeyB64 (§2). */
  serverId: string;
  /** base64url of the daemon's 32-byte X25519 public key. */
  daemonPublicKeyB64: string;
  relay: RelayEndpoint;
  /** base64url of 12 random bytes; not secret (sent in clear in the hello). */
  offerId: string;
  /** base64url of the 32-byte pairing secret — the Noise psk. */
  secretB64: string;
  /** ISO 8601 time after which the daemon refuses the offer. */
  expiresAt?: string;
  /** ≤ 64 characters, shown in `paseo daemon offers`. */
  label?: string;
}

export interface ParseOfferOptions {
  /** Current time for the expiry check (ms since epoch or Date). Default Date.now(). */
  now?: number | Date;
  /** Backend used for SHA-256 when checking serverId. Default: @noble/hashes' sha256 (light, no curve code). */
  backend?: CryptoBackend;
  /** Return expired offers instead of throwing OfferExpiredError (for inspection tools). */
  allowExpired?: boolean;
  /** Prefix for error messages naming where the text came from, e.g. "PASEO_RELAY_OFFER". */
  source?: string;
}

/** Raw bytes of an offer's key material, decoded once for the handshake. */
export interface OfferBytes {
  daemonPublicKey: Uint8Array;
  offerId: Uint8Array;
  secret: Uint8Array;
}

const B64URL_TEXT_RE = /^[A-Za-z0-9_-]+$/;
const HOST_NAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\]$/;
const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const TOP_KEYS = new Set([
  "v",
  "serverId",
  "daemonPublicKeyB64",
  "relay",
  "offerId",
  "secretB64",
  "expiresAt",
  "label",
]);
const RELAY_KEYS = new Set(["endpoint", "tls"]);

/** true when `endpoint` is `host:port` (IPv6 hosts in brackets), port 1–65535, no scheme or path. */
export function isValidRelayEndpoint(endpoint: string): boolean {
  const m = /^(.+):(\d{1,5})$/.exec(endpoint);
  if (!m) return false;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return false;
  const host = m[1]!;
  return HOST_NAME_RE.test(host) || IPV6_RE.test(host);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function fail(message: string): never {
  throw new OfferError(message);
}

function decodeB64Field(obj: Record<string, unknown>, field: string, bytes: number, what: string): Uint8Array {
  const value = obj[field];
  if (value === undefined) fail(`offer is missing field ${field} (${what})`);
  if (typeof value !== "string") fail(`offer field ${field} must be a base64url string (got ${typeName(value)})`);
  const decoded = fromBase64Url(value);
  if (decoded === undefined) {
    fail(
      `offer field ${field} is not valid base64url (${value.length} characters; expected ${bytes} bytes as A-Z a-z 0-9 - _ without padding)`,
    );
  }
  if (decoded.length !== bytes)
    fail(`offer field ${field} must be ${bytes} bytes (${what}), got ${decoded.length} bytes`);
  return decoded;
}

function checkUnknownKeys(obj: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key))
      fail(`offer has an unknown field ${JSON.stringify(describeInput(key).slice(0, 40))}${where}`);
  }
}

function toMillis(now: number | Date | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === "number" ? now : now.getTime();
}

/** SHA-256 without loading a whole crypto backend: parsing an offer must stay cheap for `paseo ls`. */
const plainSha256 = { hash: (_name: string, data: Uint8Array) => sha256(data) };

/** The serverId a daemon public key stands for (§2), computed without loading a crypto backend. */
export function serverIdOfKey(daemonPublicKey: Uint8Array, backend?: CryptoBackend): string {
  return deriveServerId(backend ?? plainSha256, daemonPublicKey);
}

/**
 * Validate an already-decoded offer object (strict) and return a canonical copy holding only the known fields.
 * Throws OfferVersionError for v ≠ 3 (with a re-pair message for v2), OfferError for anything malformed and
 * OfferExpiredError when expired (unless allowExpired).
 */
export function validateOffer(value: unknown, options: ParseOfferOptions = {}): Offer {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`offer JSON must be an object (got ${typeName(value)})`);
  }
  const obj = value as Record<string, unknown>;
  // Version first: an old or future offer should get a version message, not a list of field errors.
  if (!("v" in obj)) fail("offer is missing field v (the offer version)");
  const v = obj.v;
  if (typeof v !== "number" || !Number.isInteger(v)) fail(`offer field v must be an integer (got ${typeName(v)})`);
  if (v === 2) {
    throw new OfferVersionError(
      2,
      "this is a version 2 pairing offer from an older paseo (it has no pairing secret) and is not supported by this paseo " +
        "(supports 3): re-pair by running `paseo daemon pair` with this paseo on the daemon machine and use the new link",
    );
  }
  if (v !== OFFER_VERSION && v !== TICKET_OFFER_VERSION) throw new OfferVersionError(v);
  checkUnknownKeys(obj, TOP_KEYS, "");

  const serverId = obj.serverId;
  if (serverId === undefined) fail("offer is missing field serverId");
  if (typeof serverId !== "string") fail(`offer field serverId must be a string (got ${typeName(serverId)})`);
  if (!SERVER_ID_RE.test(serverId))
    fail(`offer field serverId must be 26 base32 characters [a-z2-7] (got ${serverId.length} characters)`);

  const daemonPublicKey = decodeB64Field(obj, "daemonPublicKeyB64", KEY_LEN, "the daemon's X25519 public key");
  const derived = deriveServerId(options.backend ?? plainSha256, daemonPublicKey);
  if (derived !== serverId) {
    fail(
      `offer field serverId ${serverId} does not match daemonPublicKeyB64 (which gives ${derived}): the offer was altered or corrupted`,
    );
  }

  const relay = obj.relay;
  if (relay === undefined) fail("offer is missing field relay ({endpoint, tls})");
  if (typeof relay !== "object" || relay === null || Array.isArray(relay)) {
    fail(`offer field relay must be an object {endpoint, tls} (got ${typeName(relay)})`);
  }
  const r = relay as Record<string, unknown>;
  checkUnknownKeys(r, RELAY_KEYS, " in relay");
  if (r.endpoint === undefined) fail("offer is missing field relay.endpoint (host:port)");
  if (typeof r.endpoint !== "string")
    fail(`offer field relay.endpoint must be a string host:port (got ${typeName(r.endpoint)})`);
  if (!isValidRelayEndpoint(r.endpoint)) {
    fail(`offer field relay.endpoint must be host:port without scheme or path (got "${describeInput(r.endpoint)}")`);
  }
  if (r.tls === undefined) fail("offer is missing field relay.tls (true for wss://, false for ws://)");
  if (typeof r.tls !== "boolean") fail(`offer field relay.tls must be true or false (got ${typeName(r.tls)})`);

  decodeB64Field(obj, "offerId", OFFER_ID_LEN, "the offer id");
  decodeB64Field(obj, "secretB64", PSK_LEN, "the pairing secret");

  const offer: Offer = {
    v,
    serverId,
    daemonPublicKeyB64: obj.daemonPublicKeyB64 as string,
    relay: { endpoint: r.endpoint, tls: r.tls },
    offerId: obj.offerId as string,
    secretB64: obj.secretB64 as string,
  };

  if (obj.expiresAt !== undefined) {
    const e = obj.expiresAt;
    if (typeof e !== "string") fail(`offer field expiresAt must be an ISO 8601 time string (got ${typeName(e)})`);
    if (!ISO_TIME_RE.test(e) || !Number.isFinite(Date.parse(e))) {
      fail(
        `offer field expiresAt must be an ISO 8601 time like 2026-12-01T00:00:00.000Z (got "${describeInput(e).slice(0, 40)}")`,
      );
    }
    offer.expiresAt = e;
  }
  if (obj.label !== undefined) {
    const l = obj.label;
    if (typeof l !== "string") fail(`offer field label must be a string (got ${typeName(l)})`);
    // An empty label is tolerated in a received offer (it has always parsed); every other case follows the rule.
    const problem = l === "" ? undefined : offerLabelProblem(l);
    if (problem !== undefined) fail(`offer field label ${problem}`);
    offer.label = l;
  }

  if (!options.allowExpired && isOfferExpired(offer, options.now)) {
    throw new OfferExpiredError(offer.expiresAt!);
  }
  return offer;
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's SyntaxError message can quote part of the input; report only the position.
    const pos = /position (\d+)/.exec(err instanceof Error ? err.message : "");
    fail(`${what} is not valid JSON${pos ? ` (syntax error at position ${pos[1]})` : ""}`);
  }
}

function decodeB64Json(payload: string, what: string): unknown {
  const bytes = fromBase64Url(payload);
  if (bytes === undefined) {
    fail(`${what} is not valid base64url (${payload.length} characters; it may be truncated — copy it again in full)`);
  }
  let json: string;
  try {
    json = fromUtf8(bytes);
  } catch {
    fail(`${what} decodes to bytes that are not UTF-8 text (it may be truncated or altered)`);
  }
  if (!json.trimStart().startsWith("{"))
    fail(`${what} does not decode to an offer (expected JSON text starting with "{")`);
  return parseJsonText(json, `${what} decodes to text that`);
}

function parseOfferInner(raw: string, options: ParseOfferOptions): Offer {
  if (typeof raw !== "string") fail(`offer must be text (got ${typeName(raw)})`);
  const text = raw.trim();
  if (text.length === 0) fail("the offer is empty: expected a pairing link (…/#offer=…), base64url text or JSON");
  if (text.length > MAX_OFFER_TEXT_CHARS) {
    fail(`the offer is too long (${text.length} characters; a pairing offer is well under 1 KiB)`);
  }

  const at = text.indexOf(OFFER_FRAGMENT);
  if (at >= 0) {
    let payload = text.slice(at + OFFER_FRAGMENT.length);
    // Tolerate what copy/paste and URL encoders add: trailing padding and other fragment parameters.
    const amp = payload.indexOf("&");
    if (amp >= 0) payload = payload.slice(0, amp);
    payload = payload.replace(/(?:=|%3[Dd])+$/, "");
    if (payload.length === 0)
      fail("the link's #offer= fragment is empty — copy the whole link printed by `paseo daemon pair`");
    if (!B64URL_TEXT_RE.test(payload)) {
      fail(
        `the link's #offer= fragment is not valid base64url (${payload.length} characters; expected only A-Z a-z 0-9 - _)`,
      );
    }
    return validateOffer(decodeB64Json(payload, "the link's #offer= fragment"), options);
  }
  if (text.startsWith("{")) return validateOffer(parseJsonText(text, "the offer"), options);
  if (text.startsWith("[") || text.startsWith('"')) fail('the offer JSON must be an object {"v":3, …}');
  const bare = text.replace(/=+$/, "");
  if (B64URL_TEXT_RE.test(bare)) return validateOffer(decodeB64Json(bare, "the offer text"), options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    fail(
      "this link has no #offer= fragment — copy the whole link printed by `paseo daemon pair` (everything after # included)",
    );
  }
  fail(`not a pairing offer (${text.length} characters): expected a link containing #offer=, base64url text or JSON`);
}

/**
 * Parse a pairing offer given as a link (`…/#offer=…`), bare base64url or JSON text, validate it strictly and check
 * expiry. Throws OfferError (OFFER_INVALID), OfferVersionError (OFFER_VERSION) or OfferExpiredError (OFFER_EXPIRED).
 */
export function parseOffer(text: string, options: ParseOfferOptions = {}): Offer {
  try {
    return parseOfferInner(text, options);
  } catch (err) {
    if (err instanceof OfferError && options.source) err.message = `${options.source}: ${err.message}`;
    throw err;
  }
}

/** true when `text` is shaped like an offer (link with #offer=, JSON object, or a long base64url token). */
export function looksLikeOffer(text: string): boolean {
  const t = text.trim();
  if (t.includes(OFFER_FRAGMENT) || t.startsWith("{")) return true;
  // A real offer is ~300+ base64url characters; short tokens are more likely file names.
  return t.length >= 64 && B64URL_TEXT_RE.test(t.replace(/=+$/, ""));
}

/** Canonical JSON of an offer: fixed key order, only known fields. */
export function offerToJson(offer: Offer): string {
  const out: Record<string, unknown> = {
    v: offer.v,
    serverId: offer.serverId,
    daemonPublicKeyB64: offer.daemonPublicKeyB64,
    relay: { endpoint: offer.relay.endpoint, tls: offer.relay.tls },
    offerId: offer.offerId,
    secretB64: offer.secretB64,
  };
  if (offer.expiresAt !== undefined) out.expiresAt = offer.expiresAt;
  if (offer.label !== undefined) out.label = offer.label;
  return JSON.stringify(out);
}

/** base64url (no padding) of the offer's canonical JSON. */
export function encodeOffer(offer: Offer): string {
  return toBase64Url(utf8(offerToJson(offer)));
}

/**
 * `<base>/#offer=<base64url>`. `base` is an http(s) URL such as "https://app.paseo.sh" (a trailing slash or path
 * is kept; any existing fragment is not allowed).
 */
export function offerToLink(offer: Offer, base: string): string {
  const b = base.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s#]+$/i.test(b)) {
    throw new OfferError(
      `link base must be a URL like https://app.paseo.sh without a # fragment (got "${describeInput(b)}")`,
    );
  }
  const prefix = b.includes("?") ? b : `${b.replace(/\/+$/, "")}/`;
  return `${prefix}${OFFER_FRAGMENT}${encodeOffer(offer)}`;
}

/** true when the offer has an expiresAt at or before `now`. */
export function isOfferExpired(offer: Pick<Offer, "expiresAt">, now?: number | Date): boolean {
  if (offer.expiresAt === undefined) return false;
  const t = Date.parse(offer.expiresAt);
  return !Number.isFinite(t) || t <= toMillis(now);
}

/** Decode the key material of a validated offer. */
export function offerBytes(offer: Offer): OfferBytes {
  const daemonPublicKey = fromBase64Url(offer.daemonPublicKeyB64);
  const offerId = fromBase64Url(offer.offerId);
  const secret = fromBase64Url(offer.secretB64);
  if (daemonPublicKey?.length !== KEY_LEN || offerId?.length !== OFFER_ID_LEN || secret?.length !== PSK_LEN) {
    throw new OfferError("offer key material has the wrong length; parse the offer with parseOffer() first");
  }
  return { daemonPublicKey, offerId, secret };
}
