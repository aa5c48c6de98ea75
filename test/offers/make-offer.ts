/** A valid random offer for tests (noble backend), with overrides. */
import { nobleBackend as be } from "../../src/protocol/crypto/noble.js";
import { toBase64Url } from "../../src/protocol/encoding.js";
import type { Offer } from "../../src/protocol/offer.js";
import type { RelayEndpoint } from "../../src/protocol/relay-url.js";
import { deriveServerId } from "../../src/protocol/server-id.js";

export function makeOffer(
  extra: Partial<Offer> = {},
  relay: RelayEndpoint = { endpoint: "relay.example.com:443", tls: true },
): Offer {
  const { publicKey } = be.generateKeyPair();
  return {
    v: 3,
    serverId: deriveServerId(be, publicKey),
    daemonPublicKeyB64: toBase64Url(publicKey),
    relay,
    offerId: toBase64Url(be.randomBytes(12)),
    secretB64: toBase64Url(be.randomBytes(32)),
    ...extra,
  };
}
