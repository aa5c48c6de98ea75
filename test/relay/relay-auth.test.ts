import { describe, expect, it } from "vitest";
import type { CryptoBackend } from "../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../src/protocol/crypto/noble.js";
import { LowOrderPointError } from "../../src/protocol/errors.js";
import { answerChallenge, createChallenge, verifyAuth } from "../../src/protocol/relay-auth.js";
import { MuxDecodeError, encodeAuth, encodeChallenge, encodeReady } from "../../src/protocol/relay-mux.js";
import { deriveServerId } from "../../src/protocol/server-id.js";

const pairs: Array<[string, CryptoBackend, CryptoBackend]> = [
  ["native relay / noble daemon", nativeBackend, nobleBackend],
  ["noble relay / native daemon", nobleBackend, nativeBackend],
];

describe.each(pairs)("relay auth (%s)", (_name, relayBackend, daemonBackend) => {
  const key = daemonBackend.generateKeyPair();
  const serverId = deriveServerId(daemonBackend, key.publicKey);

  it("accepts the honest answer exactly once", () => {
    const state = createChallenge(relayBackend);
    const auth = answerChallenge(daemonBackend, key, serverId, state.message);
    expect(verifyAuth(relayBackend, state, serverId, auth)).toBe(true);
    expect(verifyAuth(relayBackend, state, serverId, auth)).toBe(false); // single use
  });

  it("rejects a replay on a new challenge", () => {
    const first = createChallenge(relayBackend);
    const auth = answerChallenge(daemonBackend, key, serverId, first.message);
    expect(verifyAuth(relayBackend, createChallenge(relayBackend), serverId, auth)).toBe(false);
  });

  it("rejects another key claiming this serverId, a bogus MAC, and a proof bound to another serverId", () => {
    const other = daemonBackend.generateKeyPair();
    const s1 = createChallenge(relayBackend);
    expect(verifyAuth(relayBackend, s1, serverId, answerChallenge(daemonBackend, other, serverId, s1.message))).toBe(
      false,
    );
    const s2 = createChallenge(relayBackend);
    expect(verifyAuth(relayBackend, s2, serverId, encodeAuth(key.publicKey, new Uint8Array(32)))).toBe(false);
    // A valid proof for the other key's own serverId does not transfer to ours, nor ours to theirs.
    const otherId = deriveServerId(daemonBackend, other.publicKey);
    const s3 = createChallenge(relayBackend);
    expect(verifyAuth(relayBackend, s3, otherId, answerChallenge(daemonBackend, key, otherId, s3.message))).toBe(false);
    const s4 = createChallenge(relayBackend);
    const macForOther = answerChallenge(daemonBackend, key, otherId, s4.message);
    expect(verifyAuth(relayBackend, s4, serverId, macForOther)).toBe(false);
  });

  it("never throws on malformed or low-order input", () => {
    for (const msg of [
      new Uint8Array(0),
      encodeReady(),
      Uint8Array.of(0x02, 1),
      encodeAuth(new Uint8Array(32), new Uint8Array(32)),
    ]) {
      expect(verifyAuth(relayBackend, createChallenge(relayBackend), serverId, msg)).toBe(false);
    }
    expect(verifyAuth(relayBackend, createChallenge(relayBackend), "not-an-id", new Uint8Array(65))).toBe(false);
  });

  it("the daemon refuses a non-CHALLENGE and a low-order relay ephemeral", () => {
    expect(() => answerChallenge(daemonBackend, key, serverId, encodeReady())).toThrow(MuxDecodeError);
    expect(() =>
      answerChallenge(daemonBackend, key, serverId, encodeChallenge(new Uint8Array(32), new Uint8Array(32))),
    ).toThrow(LowOrderPointError);
  });
});
