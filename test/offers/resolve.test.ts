import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_OFFER_FILE_BYTES, resolveOffer } from "../../src/client/offer-resolve.js";
import { toBase64Url } from "../../src/protocol/encoding.js";
import { OfferError, OfferExpiredError, OfferVersionError } from "../../src/protocol/offer-errors.js";
import { type Offer, encodeOffer, offerToJson, offerToLink } from "../../src/protocol/offer.js";
import { makeOffer as makeOfferWith } from "./make-offer.js";

function makeOffer(extra: Partial<Offer> = {}): Offer {
  return makeOfferWith(extra, { endpoint: "127.0.0.1:7431", tls: false });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "paseo-resolve-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("resolveOffer", () => {
  const offer = makeOffer({ label: "phone" });
  const link = offerToLink(offer, "http://127.0.0.1:7431");

  it("nothing given → undefined (local daemon)", async () => {
    expect(await resolveOffer({ env: {} })).toBeUndefined();
    expect(await resolveOffer({ relay: "", env: { PASEO_RELAY_OFFER: "" } })).toBeUndefined();
    expect(await resolveOffer({ relay: "  ", env: { PASEO_RELAY_OFFER: " \n" } })).toBeUndefined();
  });

  it("argument: link, base64url, JSON", async () => {
    for (const text of [link, encodeOffer(offer), offerToJson(offer), JSON.stringify(offer, null, 2)]) {
      expect(await resolveOffer({ relay: text, env: {} })).toEqual({ offer, source: "argument" });
    }
  });

  it("argument: a file holding a link, base64url or JSON", async () => {
    const forms = {
      "link.txt": `${link}\n`,
      "b64.txt": encodeOffer(offer),
      "offer.json": JSON.stringify(offer, null, 2),
      offer: link,
    };
    for (const [name, content] of Object.entries(forms)) {
      const path = join(dir, name);
      await writeFile(path, content);
      expect(await resolveOffer({ relay: path, env: {} })).toEqual({ offer, source: "file", path });
    }
  });

  it("env: link, base64url, JSON, file", async () => {
    for (const text of [link, encodeOffer(offer), offerToJson(offer)]) {
      expect(await resolveOffer({ env: { PASEO_RELAY_OFFER: text } })).toEqual({ offer, source: "env" });
    }
    const path = join(dir, "env-offer.txt");
    await writeFile(path, link);
    expect(await resolveOffer({ env: { PASEO_RELAY_OFFER: path } })).toEqual({ offer, source: "file", path });
  });

  it("precedence: --relay beats PASEO_RELAY_OFFER, even when --relay is bad", async () => {
    const other = makeOffer();
    const r = await resolveOffer({ relay: link, env: { PASEO_RELAY_OFFER: encodeOffer(other) } });
    expect(r?.offer).toEqual(offer);
    expect(r?.source).toBe("argument");
    const env = await resolveOffer({ env: { PASEO_RELAY_OFFER: encodeOffer(other) } });
    expect(env?.offer).toEqual(other);
    await expect(resolveOffer({ relay: "https://x/#offer=zz!", env: { PASEO_RELAY_OFFER: link } })).rejects.toThrow(
      OfferError,
    );
  });

  it("defaults to process.env", async () => {
    const saved = process.env.PASEO_RELAY_OFFER;
    process.env.PASEO_RELAY_OFFER = link;
    try {
      expect((await resolveOffer())?.source).toBe("env");
    } finally {
      if (saved === undefined) delete process.env.PASEO_RELAY_OFFER;
      else process.env.PASEO_RELAY_OFFER = saved;
    }
  });

  it("file not found names the path", async () => {
    const path = join(dir, "missing.txt");
    const err = await rejection(resolveOffer({ relay: path, env: {} }));
    expect(err).toBeInstanceOf(OfferError);
    expect(err.message).toContain("not found");
    expect(err.message).toContain("missing.txt");
    expect(err.message).toMatch(/^--relay:/);
    const envErr = await rejection(resolveOffer({ env: { PASEO_RELAY_OFFER: path } }));
    expect(envErr.message).toMatch(/^PASEO_RELAY_OFFER:.*not found/);
  });

  it("a relay address without an offer is refused clearly", async () => {
    for (const relay of ["wss://relay.example.com", "relay.example.com:443"]) {
      const err = await rejection(resolveOffer({ relay, env: {} }));
      expect(err).toBeInstanceOf(OfferError);
      expect(err.message).toMatch(/relay address without a pairing offer/);
    }
  });

  it("file too large", async () => {
    const path = join(dir, "big.txt");
    await writeFile(path, "x".repeat(MAX_OFFER_FILE_BYTES + 1));
    const err = await rejection(resolveOffer({ relay: path, env: {} }));
    expect(err).toBeInstanceOf(OfferError);
    expect(err.message).toMatch(/big\.txt is too large/);
    // exactly at the cap is read (and then refused as content, not size)
    const atCap = join(dir, "atcap.txt");
    await writeFile(atCap, " ".repeat(MAX_OFFER_FILE_BYTES - link.length) + link);
    expect((await resolveOffer({ relay: atCap, env: {} }))?.offer).toEqual(offer);
  });

  it("file too large with an injected reader", async () => {
    const readFile = async () => "x".repeat(MAX_OFFER_FILE_BYTES + 1);
    await expect(resolveOffer({ relay: "some-file", env: {}, readFile })).rejects.toThrow(/too large/);
  });

  it("injected reader errors: permission denied, directory", async () => {
    const eacces = async () => {
      throw Object.assign(new Error("nope"), { code: "EACCES" });
    };
    await expect(resolveOffer({ relay: "f.txt", env: {}, readFile: eacces })).rejects.toThrow(
      /cannot read offer file f\.txt: permission denied/,
    );
    const sub = join(dir, "a-directory");
    await mkdir(sub);
    await expect(resolveOffer({ relay: sub, env: {} })).rejects.toThrow(/it is a directory/);
  });

  it.skipIf(process.getuid?.() === 0)("unreadable file (mode 000)", async () => {
    const path = join(dir, "secret-offer.txt");
    await writeFile(path, link);
    await chmod(path, 0o000);
    await expect(resolveOffer({ relay: path, env: {} })).rejects.toThrow(/permission denied/);
  });

  it("file contents that are not an offer: the error names the file, not the content", async () => {
    const path = join(dir, "junk.txt");
    await writeFile(path, `${offer.secretB64} is not a link`);
    const err = await rejection(resolveOffer({ relay: path, env: {} }));
    expect(err).toBeInstanceOf(OfferError);
    expect(err.message).toContain("junk.txt");
    expect(err.message).not.toContain(offer.secretB64);
  });

  it("expired and v2 offers keep their error classes", async () => {
    const expired = makeOffer({ expiresAt: "2001-01-01T00:00:00.000Z" });
    await expect(resolveOffer({ relay: encodeOffer(expired), env: {} })).rejects.toBeInstanceOf(OfferExpiredError);
    const v2 = toBase64Url(
      new TextEncoder().encode(
        JSON.stringify({
          v: 2,
          serverId: offer.serverId,
          daemonPublicKeyB64: offer.daemonPublicKeyB64,
          relay: { endpoint: "relay.paseo.sh:443" },
        }),
      ),
    );
    const err = await rejection(resolveOffer({ env: { PASEO_RELAY_OFFER: `https://app.paseo.sh/#offer=${v2}` } }));
    expect(err).toBeInstanceOf(OfferVersionError);
    expect(err.message).toMatch(/^PASEO_RELAY_OFFER: .*re-pair/);
  });

  it("bad argument errors never contain the secret or link", async () => {
    const broken = link.slice(0, -5);
    const err = await rejection(resolveOffer({ relay: `${broken}!`, env: {} }));
    expect(err.message).not.toContain(offer.secretB64);
    expect(err.message).not.toContain(broken);
  });
});

describe("browser bundle", () => {
  it("offer codec and resolver bundle for the browser without node:fs", async () => {
    const result = await build({
      stdin: {
        contents: `export { parseOffer, offerToLink } from "./src/protocol/offer.ts"; export { resolveOffer } from "./src/client/offer-resolve.ts";`,
        resolveDir: process.cwd(),
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const text = result.outputFiles[0]!.text;
    expect(text).not.toMatch(/from\s+["']node:/);
    expect(text).not.toMatch(/require\(["']node:/);
  });
});
