import { describe, expect, it } from "vitest";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../src/protocol/crypto/noble.js";
import { DEVICE_ID_RE, deviceIdOf, sasOf } from "../../src/protocol/device.js";

describe("device id and SAS (docs/protocol.md §6)", () => {
  for (const backend of [nativeBackend, nobleBackend]) {
    it(`${backend.name}: deviceId is 16 base32 chars, SAS is ddd-ddd, both deterministic`, () => {
      const key = new Uint8Array(32).fill(7);
      const id = deviceIdOf(backend, key);
      expect(id).toMatch(DEVICE_ID_RE);
      expect(deviceIdOf(backend, key)).toBe(id);
      expect(deviceIdOf(backend, new Uint8Array(32).fill(8))).not.toBe(id);
      const sas = sasOf(backend, new Uint8Array(32).fill(1));
      expect(sas).toMatch(/^\d{3}-\d{3}$/);
      expect(sasOf(backend, new Uint8Array(32).fill(2))).not.toBe(sas);
    });
  }
  it("both backends agree", () => {
    const key = new Uint8Array(32).fill(9);
    expect(deviceIdOf(nativeBackend, key)).toBe(deviceIdOf(nobleBackend, key));
    expect(sasOf(nativeBackend, key)).toBe(sasOf(nobleBackend, key));
  });
});
