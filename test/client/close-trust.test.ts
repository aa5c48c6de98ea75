/** Which close codes stop a reconnecting client, by how they arrived (src/client/permanent.ts, docs/protocol.md §4). */
import { describe, expect, it } from "vitest";
import { errorForClose } from "../../src/client/errors.js";
import { isPermanent } from "../../src/client/permanent.js";

describe("close-code trust", () => {
  it("4112 HELLO_INVALID is permanent: a malformed hello does not get better by retrying", () => {
    const err = errorForClose(4112, "hello invalid");
    expect(err.code).toBe("HELLO_INVALID");
    expect(isPermanent(err)).toBe(true);
  });
  it("a daemon refusal carried by the encrypted CLOSE is believed; the same code as a bare socket close is not", () => {
    for (const code of [4100, 4101, 4102, 4103, 4104, 4109, 4111, 4112]) {
      expect(isPermanent(errorForClose(code, "", "authenticated")), String(code)).toBe(true);
      const bare = errorForClose(code, "", "unauthenticated");
      expect(isPermanent(bare), String(code)).toBe(false);
      expect(bare.message).toMatch(new RegExp(`closed with ${code} .*not trusted`));
    }
  });
  it("relay codes on a live session are not believed either (the relay can only deny service)", () => {
    for (const code of [4000, 4005, 4010])
      expect(isPermanent(errorForClose(code, "", "unauthenticated")), String(code)).toBe(false);
  });
  it("transient codes stay transient whatever their origin", () => {
    for (const code of [4001, 4002, 4009, 4105, 4110])
      expect(isPermanent(errorForClose(code, "", "authenticated")), String(code)).toBe(false);
  });
});
