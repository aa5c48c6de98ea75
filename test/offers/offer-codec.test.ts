import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/protocol/crypto/select.js";
import { fromBase64Url, toBase64Url, utf8 } from "../../src/protocol/encoding.js";
import { PaseoError } from "../../src/protocol/errors.js";
import {
  OfferError,
  OfferExpiredError,
  OfferRevokedError,
  OfferVersionError,
} from "../../src/protocol/offer-errors.js";
import {
  encodeOffer,
  isOfferExpired,
  isValidRelayEndpoint,
  looksLikeOffer,
  offerBytes,
  offerToJson,
  offerToLink,
  parseOffer,
  validateOffer,
} from "../../src/protocol/offer.js";
import { makeOffer } from "./make-offer.js";

const b64json = (value: unknown) => toBase64Url(utf8(JSON.stringify(value)));

function catchErr(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("offer encodings round trip", () => {
  const offer = makeOffer({ expiresAt: "2099-01-01T00:00:00.000Z", label: "laptop" });

  it("link", () => {
    const link = offerToLink(offer, "https://app.paseo.sh");
    expect(link.startsWith("https://app.paseo.sh/#offer=")).toBe(true);
    expect(link).not.toContain("=".repeat(2));
    expect(link.split("#offer=")[1]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseOffer(link)).toEqual(offer);
  });

  it("link with a trailing slash, a path, and a query base", () => {
    expect(offerToLink(offer, "http://127.0.0.1:7431/")).toMatch(/^http:\/\/127\.0\.0\.1:7431\/#offer=/);
    expect(offerToLink(offer, "https://x.example/app/")).toMatch(/^https:\/\/x\.example\/app\/#offer=/);
    expect(offerToLink(offer, "https://x.example/?a=1")).toMatch(/^https:\/\/x\.example\/\?a=1#offer=/);
    for (const base of ["http://127.0.0.1:7431/", "https://x.example/app/", "https://x.example/?a=1"]) {
      expect(parseOffer(offerToLink(offer, base))).toEqual(offer);
    }
  });

  it("bad link bases are refused", () => {
    expect(() => offerToLink(offer, "app.paseo.sh")).toThrow(OfferError);
    expect(() => offerToLink(offer, "https://a/#x")).toThrow(OfferError);
  });

  it("bare base64url (and tolerated padding / whitespace)", () => {
    const enc = encodeOffer(offer);
    expect(enc).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseOffer(enc)).toEqual(offer);
    expect(parseOffer(`  ${enc}\n`)).toEqual(offer);
    const padded = enc + "=".repeat((4 - (enc.length % 4)) % 4);
    expect(parseOffer(padded)).toEqual(offer);
    expect(parseOffer(`https://a.b/#offer=${padded}`)).toEqual(offer);
  });

  it("JSON text (pretty or compact)", () => {
    expect(parseOffer(offerToJson(offer))).toEqual(offer);
    expect(parseOffer(JSON.stringify(offer, null, 2))).toEqual(offer);
  });

  it("minimal offer without expiresAt/label; canonical key order", () => {
    const o = makeOffer();
    const parsed = parseOffer(encodeOffer(o));
    expect(parsed).toEqual(o);
    expect(Object.keys(JSON.parse(offerToJson(parsed)))).toEqual([
      "v",
      "serverId",
      "daemonPublicKeyB64",
      "relay",
      "offerId",
      "secretB64",
    ]);
  });

  it("link in surrounding text and with extra fragment parameters", () => {
    const link = offerToLink(offer, "https://app.paseo.sh");
    expect(parseOffer(`${link}&x=1`)).toEqual(offer);
  });

  it("ipv6 endpoint and tls false", () => {
    const o = makeOffer({ relay: { endpoint: "[::1]:7431", tls: false } });
    expect(parseOffer(offerToLink(o, "http://[::1]:7431"))).toEqual(o);
  });

  it("works with the native backend too", async () => {
    const native = await loadBackend("native");
    expect(parseOffer(encodeOffer(offer), { backend: native })).toEqual(offer);
  });

  it("offerBytes decodes key material", () => {
    const b = offerBytes(offer);
    expect(b.daemonPublicKey.length).toBe(32);
    expect(b.offerId.length).toBe(12);
    expect(b.secret).toEqual(fromBase64Url(offer.secretB64));
  });

  it("looksLikeOffer", () => {
    expect(looksLikeOffer(offerToLink(offer, "https://a.b"))).toBe(true);
    expect(looksLikeOffer(encodeOffer(offer))).toBe(true);
    expect(looksLikeOffer(offerToJson(offer))).toBe(true);
    expect(looksLikeOffer("./offer.txt")).toBe(false);
    expect(looksLikeOffer("offer")).toBe(false);
    expect(looksLikeOffer("wss://relay.example.com")).toBe(false);
  });

  it("isValidRelayEndpoint", () => {
    for (const ok of ["relay.example.com:443", "127.0.0.1:7431", "[::1]:1", "localhost:65535", "a-b.c:80"]) {
      expect(isValidRelayEndpoint(ok), ok).toBe(true);
    }
    for (const bad of [
      "relay.example.com",
      "wss://a:443",
      "a:0",
      "a:65536",
      "a:443/x",
      ":443",
      "a b:1",
      "-a:1",
      "::1:80",
    ]) {
      expect(isValidRelayEndpoint(bad), bad).toBe(false);
    }
  });
});

describe("expiry", () => {
  it("expired offers throw OfferExpiredError with the time in the message", () => {
    const o = makeOffer({ expiresAt: "2020-01-02T03:04:05.000Z" });
    const err = catchErr(() => parseOffer(encodeOffer(o)));
    expect(err).toBeInstanceOf(OfferExpiredError);
    expect(err).toBeInstanceOf(OfferError);
    expect(err).toBeInstanceOf(PaseoError);
    expect((err as OfferExpiredError).code).toBe("OFFER_EXPIRED");
    expect(err.message).toContain("2020-01-02T03:04:05.000Z");
    expect((err as OfferExpiredError).expiresAt).toBe("2020-01-02T03:04:05.000Z");
  });

  it("now option and allowExpired", () => {
    const o = makeOffer({ expiresAt: "2030-01-01T00:00:00.000Z" });
    expect(parseOffer(encodeOffer(o), { now: Date.parse("2029-12-31T23:59:59Z") })).toEqual(o);
    expect(() => parseOffer(encodeOffer(o), { now: new Date("2030-01-01T00:00:00Z") })).toThrow(OfferExpiredError);
    expect(parseOffer(encodeOffer(o), { now: Date.parse("2031-01-01"), allowExpired: true })).toEqual(o);
  });

  it("isOfferExpired", () => {
    expect(isOfferExpired({}, 0)).toBe(false);
    expect(isOfferExpired({ expiresAt: "2030-01-01T00:00:00.000Z" }, Date.parse("2029-01-01"))).toBe(false);
    expect(isOfferExpired({ expiresAt: "2030-01-01T00:00:00.000Z" }, Date.parse("2030-01-01"))).toBe(true);
    expect(isOfferExpired({ expiresAt: "2000-01-01T00:00:00.000Z" })).toBe(true);
  });
});

describe("versions", () => {
  const v2 = () => {
    const o = makeOffer();
    return {
      v: 2,
      serverId: o.serverId,
      daemonPublicKeyB64: o.daemonPublicKeyB64,
      relay: { endpoint: "relay.paseo.sh:443" },
    };
  };

  it("v2 link from an old paseo is refused with a re-pair message", () => {
    const link = `https://app.paseo.sh/#offer=${b64json(v2())}`;
    const err = catchErr(() => parseOffer(link));
    expect(err).toBeInstanceOf(OfferVersionError);
    expect((err as OfferVersionError).code).toBe("OFFER_VERSION");
    expect((err as OfferVersionError).version).toBe(2);
    expect(err.message).toMatch(/re-pair/);
    expect(err.message).toContain("paseo daemon pair");
    expect(err.message).toMatch(/version 2/);
    expect(err.message).not.toContain(link);
  });

  it("v2 as bare base64url and JSON", () => {
    expect(() => parseOffer(b64json(v2()))).toThrow(OfferVersionError);
    expect(() => parseOffer(JSON.stringify(v2()))).toThrow(/re-pair/);
  });

  it("unknown versions", () => {
    for (const v of [1, 5, 99, 0, -3]) {
      const err = catchErr(() => parseOffer(JSON.stringify({ ...makeOffer(), v })));
      expect(err).toBeInstanceOf(OfferVersionError);
      expect(err.message).toBe(`offer version ${v} is not supported by this paseo (supports 3 and 4)`);
    }
  });

  it("v4 (enrollment ticket) parses with the same fields as v3 and keeps its version", () => {
    const offer = parseOffer(JSON.stringify({ ...makeOffer(), v: 4 }));
    expect(offer.v).toBe(4);
    expect(parseOffer(JSON.stringify(makeOffer())).v).toBe(3);
  });

  it("v missing or not an integer", () => {
    const { v: _v, ...rest } = makeOffer();
    void _v;
    expect(() => parseOffer(JSON.stringify(rest))).toThrow(/missing field v/);
    expect(() => parseOffer(JSON.stringify({ ...makeOffer(), v: "3" }))).toThrow(/v must be an integer \(got string\)/);
    expect(() => parseOffer(JSON.stringify({ ...makeOffer(), v: 3.5 }))).toThrow(/v must be an integer/);
  });
});

describe("validation errors name what is wrong", () => {
  const base = makeOffer({ label: "x" });
  const withField = (field: string, value: unknown) => JSON.stringify({ ...base, [field]: value });
  const without = (field: string) => {
    const copy: Record<string, unknown> = { ...base };
    delete copy[field];
    return JSON.stringify(copy);
  };
  const cases: Array<[string, string, RegExp]> = [
    ["missing serverId", without("serverId"), /missing field serverId/],
    ["missing key", without("daemonPublicKeyB64"), /missing field daemonPublicKeyB64/],
    ["missing relay", without("relay"), /missing field relay/],
    ["missing offerId", without("offerId"), /missing field offerId/],
    ["missing secret", without("secretB64"), /missing field secretB64/],
    [
      "short key",
      withField("daemonPublicKeyB64", toBase64Url(new Uint8Array(31))),
      /daemonPublicKeyB64 must be 32 bytes.*got 31/,
    ],
    [
      "long key",
      withField("daemonPublicKeyB64", toBase64Url(new Uint8Array(33))),
      /daemonPublicKeyB64 must be 32 bytes.*got 33/,
    ],
    ["key not base64url", withField("daemonPublicKeyB64", "abc+/def"), /daemonPublicKeyB64 is not valid base64url/],
    [
      "key not string",
      withField("daemonPublicKeyB64", 5),
      /daemonPublicKeyB64 must be a base64url string \(got number\)/,
    ],
    ["short secret", withField("secretB64", toBase64Url(new Uint8Array(16))), /secretB64 must be 32 bytes.*got 16/],
    ["secret padded std base64", withField("secretB64", `${base.secretB64}=`), /secretB64 is not valid base64url/],
    ["short offerId", withField("offerId", toBase64Url(new Uint8Array(8))), /offerId must be 12 bytes.*got 8/],
    ["serverId wrong shape", withField("serverId", "ABC"), /serverId must be 26 base32 characters/],
    ["serverId mismatch", withField("serverId", "a".repeat(26)), /serverId a{26} does not match daemonPublicKeyB64/],
    ["relay not object", withField("relay", "relay:443"), /relay must be an object/],
    ["relay tls missing", withField("relay", { endpoint: "a:1" }), /missing field relay.tls/],
    [
      "relay tls string",
      withField("relay", { endpoint: "a:1", tls: "true" }),
      /relay.tls must be true or false \(got string\)/,
    ],
    ["relay endpoint missing", withField("relay", { tls: true }), /missing field relay.endpoint/],
    [
      "relay endpoint with scheme",
      withField("relay", { endpoint: "wss://a:1", tls: true }),
      /relay.endpoint must be host:port/,
    ],
    [
      "relay endpoint no port",
      withField("relay", { endpoint: "relay.example.com", tls: true }),
      /relay.endpoint must be host:port/,
    ],
    ["relay extra field", withField("relay", { endpoint: "a:1", tls: true, x: 1 }), /unknown field "x" in relay/],
    ["unknown top field", withField("lable", "x"), /unknown field "lable"/],
    ["expiresAt number", withField("expiresAt", 123), /expiresAt must be an ISO 8601 time string \(got number\)/],
    ["expiresAt garbage", withField("expiresAt", "tomorrow"), /expiresAt must be an ISO 8601 time/],
    ["expiresAt null", withField("expiresAt", null), /expiresAt must be an ISO 8601 time string \(got null\)/],
    ["label too long", withField("label", "x".repeat(65)), /label must be 1 to 64 characters \(got 65\)/],
    ["label control char", withField("label", "a\nb"), /label must not contain control characters/],
    ["label not string", withField("label", 7), /label must be a string/],
    ["not an object", "[1,2]", /must be an object/],
    ["bad JSON", '{"v":3,', /the offer is not valid JSON/],
  ];
  for (const [name, text, re] of cases) {
    it(name, () => {
      const err = catchErr(() => parseOffer(text));
      expect(err).toBeInstanceOf(OfferError);
      expect((err as OfferError).code).toBe("OFFER_INVALID");
      expect(err.message).toMatch(re);
    });
  }

  it("label of exactly 64 characters (including astral ones) is fine", () => {
    const label = "😀".repeat(64);
    expect(parseOffer(withField("label", label)).label).toBe(label);
  });

  it("validateOffer takes objects and returns a canonical copy", () => {
    const copy = validateOffer(JSON.parse(JSON.stringify(base)));
    expect(copy).toEqual(base);
    expect(copy).not.toBe(base);
  });
});

describe("encoding-level errors", () => {
  const offer = makeOffer();
  const enc = encodeOffer(offer);
  const cases: Array<[string, string, RegExp]> = [
    ["empty", "   ", /offer is empty/],
    ["empty fragment", "https://app.paseo.sh/#offer=", /fragment is empty/],
    ["fragment with bad characters", "https://app.paseo.sh/#offer=abc$def", /fragment is not valid base64url/],
    [
      "fragment truncated to 4n+1",
      `https://app.paseo.sh/#offer=${enc.slice(0, 4 * 20 + 1)}`,
      /not valid base64url.*truncated/,
    ],
    [
      "fragment truncated",
      `https://app.paseo.sh/#offer=${enc.slice(0, 40)}`,
      /not valid JSON|not UTF-8|not valid base64url/,
    ],
    ["fragment of non-JSON", `https://a.b/#offer=${toBase64Url(utf8("hello world"))}`, /does not decode to an offer/],
    ["fragment of non-UTF-8", `https://a.b/#offer=${toBase64Url(new Uint8Array([0xff, 0xfe, 0xfd]))}`, /not UTF-8/],
    ["link without fragment", "https://app.paseo.sh/", /no #offer= fragment/],
    ["relay URL", "wss://relay.example.com:443", /no #offer= fragment/],
    ["random words", "hello there", /not a pairing offer/],
    ["JSON string", '"abc"', /must be an object/],
    ["too long", "a".repeat(70_000), /too long/],
  ];
  for (const [name, text, re] of cases) {
    it(name, () => {
      const err = catchErr(() => parseOffer(text));
      expect(err).toBeInstanceOf(OfferError);
      expect(err.message).toMatch(re);
    });
  }

  it("source option prefixes messages", () => {
    expect(() => parseOffer("hello there", { source: "PASEO_RELAY_OFFER" })).toThrow(
      /^PASEO_RELAY_OFFER: not a pairing offer/,
    );
  });
});

describe("revoked error", () => {
  it("has code OFFER_REVOKED and a reason", () => {
    for (const reason of ["unknown", "revoked", "used"] as const) {
      const e = new OfferRevokedError(reason);
      expect(e.code).toBe("OFFER_REVOKED");
      expect(e.reason).toBe(reason);
      expect(e).toBeInstanceOf(OfferError);
      expect(e.message).toMatch(/re-pair/);
    }
    expect(new OfferExpiredError().message).toMatch(/expired/);
  });
});

describe("no error message contains the secret or the link", () => {
  it("many malformed inputs built from a real offer", () => {
    const offer = makeOffer({ label: "laptop", expiresAt: "2099-01-01T00:00:00.000Z" });
    const secret = offer.secretB64;
    const link = offerToLink(offer, "https://app.paseo.sh");
    const enc = encodeOffer(offer);
    const json = offerToJson(offer);
    const obj = JSON.parse(json) as Record<string, unknown>;
    const inputs: string[] = [];
    // truncations and corruptions of each encoding
    for (const text of [link, enc, json]) {
      for (let cut = 1; cut < text.length; cut += 7) inputs.push(text.slice(0, cut), text.slice(cut));
      for (let i = 0; i < text.length; i += 11) {
        inputs.push(`${text.slice(0, i)}!${text.slice(i + 1)}`);
        inputs.push(`${text.slice(0, i)}A${text.slice(i + 1)}`);
        inputs.push(text.slice(0, i) + text.slice(i + 1));
      }
    }
    // the secret moved into every other field, and other field mutations
    for (const field of Object.keys(obj)) {
      inputs.push(JSON.stringify({ ...obj, [field]: secret }));
      inputs.push(JSON.stringify({ ...obj, [field]: `${secret}x` }));
      inputs.push(JSON.stringify({ ...obj, [field]: { secret } }));
      inputs.push(b64json({ ...obj, [field]: [secret] }));
      inputs.push(JSON.stringify({ ...obj, [secret]: 1 }));
    }
    inputs.push(JSON.stringify({ ...obj, relay: { endpoint: secret, tls: true } }));
    inputs.push(JSON.stringify({ ...obj, relay: { endpoint: `${secret}:443x`, tls: true } }));
    inputs.push(JSON.stringify({ ...obj, relay: { endpoint: "a:1", tls: secret } }));
    inputs.push(JSON.stringify({ ...obj, relay: { endpoint: "a:1", tls: true, [secret]: 1 } }));
    inputs.push(JSON.stringify({ ...obj, expiresAt: `${secret}T` }));
    inputs.push(JSON.stringify({ ...obj, expiresAt: "2001-01-01T00:00:00Z" }));
    inputs.push(JSON.stringify({ ...obj, v: 2 }), JSON.stringify({ ...obj, v: 4 }));
    inputs.push(
      `${link} ${secret}`,
      `${secret}`,
      `wss://${secret}`,
      `https://app.paseo.sh/${secret}`,
      `${secret} ${secret}`,
    );
    inputs.push(
      `{"v":3,"secretB64":"${secret}",`,
      `{${secret}}`,
      `[${JSON.stringify(secret)}]`,
      JSON.stringify(secret),
    );
    inputs.push(`https://app.paseo.sh/#offer=${enc}$`, `https://app.paseo.sh/#offer=${b64json(JSON.stringify(obj))}`);
    inputs.push(`https://app.paseo.sh/#offer=${toBase64Url(utf8(`${json}x`))}`);

    let errors = 0;
    for (const input of inputs) {
      let err: unknown;
      try {
        parseOffer(input);
      } catch (e) {
        err = e;
      }
      if (err === undefined) continue; // some corruptions (e.g. inside the label) still parse
      errors++;
      expect(err).toBeInstanceOf(OfferError);
      const msg = (err as Error).message;
      expect(msg, input).not.toContain(secret);
      expect(msg, input).not.toContain(link);
      expect(msg, input).not.toContain(enc);
      expect(msg, input).not.toContain(secret.slice(0, 20));
      expect(String((err as Error).stack), input).not.toContain(secret);
      expect((err as Error).cause, input).toBeUndefined();
    }
    expect(errors).toBeGreaterThan(300);
  });
});
