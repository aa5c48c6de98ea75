/**
 * Wycheproof X25519 and ChaCha20-Poly1305 vectors on both crypto backends.
 *
 * X25519 policy (docs/protocol.md "Low-order points"): an all-zero shared secret throws LowOrderPointError.
 * Wycheproof marks those cases "acceptable" (flags ZeroSharedSecret / LowOrderPublic); we take the stricter
 * side. Every other "acceptable" case (Twist, NonCanonicalPublic, ...) is accepted and must produce exactly the
 * RFC 7748 output, because a backend that computes anything else would break interoperability.
 *
 * AEAD: "valid" must encrypt to ct||tag and decrypt back; "invalid" must be rejected: DecryptError for a
 * modified tag, CryptoInputError for a nonce that is not 12 bytes (both encrypt and decrypt refuse it).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { CryptoBackend } from "../../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../../src/protocol/crypto/noble.js";
import { concatBytes, fromHex, toHex } from "../../../src/protocol/encoding.js";
import { CryptoInputError, DecryptError, LowOrderPointError } from "../../../src/protocol/errors.js";
import { loadSharedVector } from "../shared-vectors.js";

interface Group<T> {
  tests: T[];
}
interface XdhTest {
  tcId: number;
  comment: string;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: "valid" | "acceptable" | "invalid";
}
interface AeadTest {
  tcId: number;
  comment: string;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "acceptable" | "invalid";
}

const x25519 = loadSharedVector<{ numberOfTests: number; testGroups: Group<XdhTest>[] }>("wycheproof-x25519.json");
const aead = loadSharedVector<{ numberOfTests: number; testGroups: Group<AeadTest>[] }>(
  "wycheproof-chacha20-poly1305.json",
);
const xdhTests = x25519.testGroups.flatMap((g) => g.tests);
const aeadTests = aead.testGroups.flatMap((g) => g.tests);
const backends: CryptoBackend[] = [nobleBackend, nativeBackend];
const ZERO_32 = "00".repeat(32);

const isZeroShared = (t: XdhTest): boolean => t.shared === ZERO_32;
const counts: Record<string, Record<string, number>> = {};
function count(backend: string, what: string): void {
  counts[backend] ??= {};
  counts[backend]![what] = (counts[backend]![what] ?? 0) + 1;
}

describe("Wycheproof files", () => {
  it("hold the expected number of tests", () => {
    expect(xdhTests).toHaveLength(x25519.numberOfTests);
    expect(aeadTests).toHaveLength(aead.numberOfTests);
  });

  it("flag exactly the all-zero shared secrets as ZeroSharedSecret (the cases our policy rejects)", () => {
    const flagged = xdhTests.filter((t) => t.flags.includes("ZeroSharedSecret"));
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.every(isZeroShared)).toBe(true);
    expect(xdhTests.filter(isZeroShared)).toEqual(flagged);
    // Every LowOrderPublic case gives a zero secret on Curve25519, so the same policy covers it.
    expect(xdhTests.filter((t) => t.flags.includes("LowOrderPublic")).every(isZeroShared)).toBe(true);
  });
});

describe.each(backends)("Wycheproof X25519 on the $name backend", (backend) => {
  const computed = xdhTests.filter((t) => !isZeroShared(t));
  const zero = xdhTests.filter(isZeroShared);

  it.each(computed.map((t) => [t.tcId, t.result, t.flags.join(","), t] as const))(
    "tcId %i (%s, %s) computes the RFC 7748 result",
    (_id, result, _flags, t) => {
      // No X25519 test in this file is "invalid": valid and acceptable (twist, non-canonical) are both computed.
      expect(result).not.toBe("invalid");
      expect(toHex(backend.dh(fromHex(t.private), fromHex(t.public)))).toBe(t.shared);
      count(backend.name, `x25519 ${result} computed`);
    },
  );

  it.each(zero.map((t) => [t.tcId, t.flags.join(","), t] as const))(
    "tcId %i (%s): all-zero shared secret throws LowOrderPointError",
    (_id, _flags, t) => {
      expect(() => backend.dh(fromHex(t.private), fromHex(t.public))).toThrow(LowOrderPointError);
      count(backend.name, `x25519 ${t.result} zero-shared rejected`);
    },
  );
});

describe.each(backends)("Wycheproof ChaCha20-Poly1305 on the $name backend", (backend) => {
  it.each(aeadTests.map((t) => [t.tcId, t.result, t.flags.join(","), t] as const))(
    "tcId %i (%s, %s)",
    (_id, result, flags, t) => {
      const key = fromHex(t.key);
      const iv = fromHex(t.iv);
      const aad = fromHex(t.aad);
      const msg = fromHex(t.msg);
      const sealed = concatBytes(fromHex(t.ct), fromHex(t.tag));
      if (result === "valid") {
        expect(toHex(backend.encrypt(key, iv, aad, msg))).toBe(t.ct + t.tag);
        expect(toHex(backend.decrypt(key, iv, aad, sealed))).toBe(t.msg);
        count(backend.name, "aead valid");
        return;
      }
      // No "acceptable" AEAD cases exist in this file; fail loudly if a future file adds some unreviewed.
      expect(result).toBe("invalid");
      if (flags.includes("InvalidNonceSize")) {
        expect(() => backend.encrypt(key, iv, aad, msg)).toThrow(CryptoInputError);
        expect(() => backend.decrypt(key, iv, aad, sealed)).toThrow(CryptoInputError);
      } else {
        expect(() => backend.decrypt(key, iv, aad, sealed)).toThrow(DecryptError);
      }
      count(backend.name, "aead invalid rejected");
    },
  );
});

afterAll(() => {
  console.log(`Wycheproof results per backend: ${JSON.stringify(counts)}`);
});
