/**
 * Errors about pairing offers (docs/protocol.md §3). Pure, browser-safe.
 *
 * Hierarchy: every class here extends OfferError (which extends PaseoError), so `err instanceof OfferError`
 * catches all of them while `err.code` tells them apart:
 *   OfferError         OFFER_INVALID  — malformed input: bad base64, bad JSON, missing field, wrong length …
 *   OfferExpiredError  OFFER_EXPIRED  — expiresAt is in the past (or the daemon said 4102)
 *   OfferVersionError  OFFER_VERSION  — `v` is not 3 or 4 (v2 offers from an older paseo get a re-pair message)
 *   OfferRevokedError  OFFER_REVOKED  — the daemon refused the offer as revoked / unknown / already used
 * No message ever contains the pairing secret or a whole link.
 */
import { PaseoError } from "./errors.js";

export type OfferErrorCode = "OFFER_INVALID" | "OFFER_EXPIRED" | "OFFER_VERSION" | "OFFER_REVOKED";

export class OfferError extends PaseoError {
  declare readonly code: OfferErrorCode;
  constructor(message: string, options?: { cause?: unknown; code?: OfferErrorCode }) {
    super(
      options?.code ?? "OFFER_INVALID",
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

export class OfferExpiredError extends OfferError {
  /** ISO time the offer expired at, when known (undefined when only the daemon's close code told us). */
  readonly expiresAt: string | undefined;
  constructor(expiresAt?: string, message?: string) {
    super(
      message ??
        (expiresAt !== undefined
          ? `this pairing offer expired at ${expiresAt}; create a new one with \`paseo daemon pair\` on the daemon machine`
          : "the daemon says this pairing offer has expired; create a new one with `paseo daemon pair` on the daemon machine"),
      { code: "OFFER_EXPIRED" },
    );
    this.expiresAt = expiresAt;
  }
}

export class OfferVersionError extends OfferError {
  /** The `v` found in the offer. */
  readonly version: number;
  constructor(version: number, message?: string) {
    super(message ?? `offer version ${version} is not supported by this paseo (supports 3 and 4)`, {
      code: "OFFER_VERSION",
    });
    this.version = version;
  }
}

export type OfferRevokedReason = "unknown" | "revoked" | "used";

export class OfferRevokedError extends OfferError {
  readonly reason: OfferRevokedReason;
  constructor(reason: OfferRevokedReason, message?: string) {
    const text: Record<OfferRevokedReason, string> = {
      unknown: "the daemon does not know this pairing offer (it was removed, or the daemon's identity was reset)",
      revoked: "this pairing offer was revoked on the daemon",
      used: "this single-use pairing offer was already used",
    };
    super(message ?? `${text[reason]}; re-pair with a new link from \`paseo daemon pair\``, { code: "OFFER_REVOKED" });
    this.reason = reason;
  }
}
