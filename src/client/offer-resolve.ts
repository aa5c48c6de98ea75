/**
 * Where a client's pairing offer comes from: the --relay argument (a link, base64url, JSON, or a file holding one
 * of those), else $PASEO_RELAY_OFFER (same forms), else nothing (the caller talks to the local daemon).
 *
 * This is the only client module that may touch the file system, and it does so through a lazy import of
 * offer-file-node.ts (node:fs) that package.json's `browser` field maps to nothing, so a browser bundle never needs node:fs
 * (parseOffer in src/protocol/offer.ts stays pure).
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { OfferError } from "../protocol/offer-errors.js";
import { type Offer, looksLikeOffer, parseOffer } from "../protocol/offer.js";
import { describeInput } from "../protocol/redact.js";
import { errnoCode } from "../protocol/errors.js";
import { fromUtf8, utf8 } from "../protocol/encoding.js";

/** Offer files above this size are refused without being read in full. */
export const MAX_OFFER_FILE_BYTES = 64 * 1024;
export const OFFER_ENV = "PASEO_RELAY_OFFER";

export type OfferSource = "argument" | "file" | "env";

export interface ResolvedOffer {
  offer: Offer;
  /** "file" when the offer was read from a file (named by --relay or by PASEO_RELAY_OFFER). */
  source: OfferSource;
  /** The file path, when source is "file". */
  path?: string;
}

/**
 * Reads a file. Errors carry errno `code`s (ENOENT, EACCES, EISDIR …); a file above maxBytes may be reported with
 * code EFBIG or by returning more than maxBytes.
 */
export type OfferFileReader = (path: string, maxBytes: number) => Promise<string | Uint8Array>;

export interface ResolveOfferOptions {
  /** The --relay value. */
  relay?: string;
  /** Environment (default process.env when running in Node, else {}). */
  env?: Record<string, string | undefined>;
  /** File reader (default: node:fs, loaded on demand). */
  readFile?: OfferFileReader;
  /** Time for the expiry check. */
  now?: number | Date;
  backend?: CryptoBackend;
}

function defaultEnv(): Record<string, string | undefined> {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env ?? {};
}

/** The default reader: node:fs, loaded on first use (an empty module in browser bundles, see the header). */
const nodeReadFile: OfferFileReader = async (path, maxBytes) => {
  const mod = (await import("./offer-file-node.js")) as Partial<typeof import("./offer-file-node.js")>;
  if (typeof mod.readOfferFileNode !== "function")
    throw Object.assign(new Error("no file system here"), { code: "ENOTSUP" });
  return mod.readOfferFileNode(path, maxBytes);
};

function tooLarge(shown: string, origin: string): OfferError {
  return new OfferError(
    `${origin}: offer file ${shown} is too large (over ${MAX_OFFER_FILE_BYTES / 1024} KiB; a pairing offer is under 1 KiB) — is it the right file?`,
  );
}

async function readOfferFile(path: string, reader: OfferFileReader, origin: string): Promise<string | undefined> {
  const shown = describeInput(path);
  let data: string | Uint8Array;
  try {
    data = await reader(path, MAX_OFFER_FILE_BYTES);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "EFBIG") throw tooLarge(shown, origin);
    const why =
      code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "EISDIR"
          ? "it is a directory"
          : (code ?? "read error");
    throw new OfferError(`${origin}: cannot read offer file ${shown}: ${why}`, { cause: err });
  }
  const size = typeof data === "string" ? utf8(data).length : data.length;
  if (size > MAX_OFFER_FILE_BYTES) throw tooLarge(shown, origin);
  if (typeof data === "string") return data;
  try {
    return fromUtf8(data);
  } catch {
    throw new OfferError(`${origin}: offer file ${shown} is not UTF-8 text`);
  }
}

async function resolveValue(
  value: string,
  source: "argument" | "env",
  options: ResolveOfferOptions,
): Promise<ResolvedOffer> {
  const origin = source === "env" ? OFFER_ENV : "--relay";
  const parseOptions = {
    source: origin,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
  };
  if (looksLikeOffer(value)) return { offer: parseOffer(value, parseOptions), source };

  const path = value.trim();
  const text = await readOfferFile(path, options.readFile ?? nodeReadFile, origin);
  if (text !== undefined) {
    const offer = parseOffer(text, { ...parseOptions, source: `${origin}: offer file ${describeInput(path)}` });
    return { offer, source: "file", path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || /^[^/\\\s]+:\d+$/.test(path)) {
    throw new OfferError(
      `${origin}: "${describeInput(path)}" is a relay address without a pairing offer — use the whole link printed by ` +
        "`paseo daemon pair` (it ends in #offer=…), or a file holding it",
    );
  }
  throw new OfferError(
    `${origin}: offer file ${describeInput(path)} not found (expected a pairing link with #offer=, base64url or JSON, or a file holding one)`,
  );
}

/**
 * Find the client's pairing offer: --relay (parsed, or read as a file) > PASEO_RELAY_OFFER > undefined.
 * Throws OfferError (and subclasses) with a message naming where the bad offer came from; never the secret.
 */
export async function resolveOffer(options: ResolveOfferOptions = {}): Promise<ResolvedOffer | undefined> {
  if (options.relay !== undefined && options.relay.trim() !== "")
    return resolveValue(options.relay, "argument", options);
  const fromEnv = (options.env ?? defaultEnv())[OFFER_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return resolveValue(fromEnv, "env", options);
  return undefined;
}
