/**
 * Fuzz: the offer parser (links, bare base64url, JSON) on valid, mutated and random input. It returns a valid offer
 * or throws an OfferError (a PaseoError); never another exception, never a hang, and no error message ever
 * contains the pairing secret or the link.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { toBase64Url } from "../../src/protocol/encoding.js";
import { OfferError } from "../../src/protocol/offer-errors.js";
import {
  encodeOffer,
  offerToJson,
  offerToLink,
  parseOffer,
  validateOffer,
  type Offer,
} from "../../src/protocol/offer.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import { mutatedText, named, RUNS } from "./fuzz-helpers.js";

const backend = nativeBackend;
const NOW = Date.parse("2026-01-01T00:00:00Z");
const keys = Array.from({ length: 4 }, () => backend.generateKeyPair().publicKey);

const offerArb: fc.Arbitrary<Offer> = fc
  .record({
    key: fc.constantFrom(...keys),
    offerId: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    endpoint: fc.constantFrom("relay.example.com:443", "127.0.0.1:7431", "[::1]:8080", "a-b.c:1"),
    tls: fc.boolean(),
    expires: fc.option(fc.integer({ min: 1, max: 10 * 365 * 24 * 3600 }), { nil: undefined }),
    label: fc.option(
      fc.string({ maxLength: 64 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && [...s].length <= 64),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const offer: Offer = {
      v: 3,
      serverId: deriveServerId(backend, r.key),
      daemonPublicKeyB64: toBase64Url(r.key),
      relay: { endpoint: r.endpoint, tls: r.tls },
      offerId: toBase64Url(r.offerId),
      secretB64: toBase64Url(r.secret),
    };
    if (r.expires !== undefined) offer.expiresAt = new Date(NOW + r.expires * 1000).toISOString();
    if (r.label !== undefined) offer.label = r.label;
    return offer;
  });

type Form = "link" | "base64" | "json";
const render = (offer: Offer, form: Form): string =>
  form === "link"
    ? offerToLink(offer, "https://app.example")
    : form === "base64"
      ? encodeOffer(offer)
      : offerToJson(offer);

function parse(text: string) {
  return named(() => parseOffer(text, { now: NOW, backend }));
}

/** Whatever parseOffer accepts is a canonical, re-validatable offer. */
function expectWellFormed(offer: Offer): void {
  expect(() => validateOffer(JSON.parse(offerToJson(offer)), { now: NOW, backend })).not.toThrow();
  expect(parseOffer(offerToJson(offer), { now: NOW, backend })).toEqual(offer);
}

describe("offer parser", () => {
  it("round-trips every valid offer in every form", () => {
    fc.assert(
      fc.property(offerArb, fc.constantFrom<Form>("link", "base64", "json"), (offer, form) => {
        const r = parse(render(offer, form));
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toEqual(offer);
      }),
      RUNS,
    );
  });

  it("mutated offers: a valid offer or an OfferError, and the secret never appears in the message", () => {
    fc.assert(
      fc.property(
        offerArb.chain((offer) =>
          fc
            .constantFrom<Form>("link", "base64", "json")
            .chain((form) => mutatedText(fc.constant(render(offer, form))).map((text) => ({ offer, form, text }))),
        ),
        ({ offer, form, text }) => {
          const r = parse(text);
          if (r.ok) return expectWellFormed(r.value);
          expect(r.error).toBeInstanceOf(OfferError);
          expect(r.error.message).not.toContain(offer.secretB64);
          if (form === "link") expect(r.error.message).not.toContain(render(offer, "link"));
          expect(r.error.message).not.toContain(`#offer=${encodeOffer(offer).slice(0, 40)}`);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("random text (any Unicode, huge, control characters): named errors only", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 300 }),
          fc.string({ unit: "grapheme", maxLength: 300 }),
          fc.base64String({ maxLength: 600 }),
          fc.string({ maxLength: 50 }).map((s) => `https://x/#offer=${s}`),
          fc.integer({ min: 64 * 1024 - 2, max: 200 * 1024 }).map((n) => `{${"a".repeat(n)}`),
        ),
        (text) => {
          const r = parse(text);
          if (r.ok) expectWellFormed(r.value);
          else expect(r.error).toBeInstanceOf(OfferError);
        },
      ),
      RUNS,
    );
  });

  it("random JSON values and offer-shaped objects with wrong types: named errors only", () => {
    const anyValue = fc.jsonValue({ maxDepth: 3 });
    const shaped = fc.record(
      {
        v: fc.oneof(fc.constant(3), fc.constant(2), anyValue),
        serverId: anyValue,
        daemonPublicKeyB64: anyValue,
        relay: fc.oneof(anyValue, fc.record({ endpoint: anyValue, tls: anyValue }, { requiredKeys: [] })),
        offerId: anyValue,
        secretB64: anyValue,
        expiresAt: anyValue,
        label: anyValue,
        __proto__: anyValue,
        constructor: anyValue,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anyValue, shaped), (value) => {
        const r = named(() => validateOffer(value, { now: NOW, backend }));
        if (!r.ok) expect(r.error).toBeInstanceOf(OfferError);
        const t = parse(JSON.stringify(value) ?? "");
        if (!t.ok) expect(t.error).toBeInstanceOf(OfferError);
      }),
      RUNS,
    );
  });

  it("non-string input to parseOffer is a named error too", () => {
    for (const value of [undefined, null, 42, {}, [], Symbol.iterator]) {
      const r = named(() => parseOffer(value as unknown as string));
      expect(r.ok).toBe(false);
    }
  });
});
