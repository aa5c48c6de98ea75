/** What the views may offer (src/web/access.ts): rights from the session, the kill switch only when present. */
import { describe, expect, it } from "vitest";
import { accessOf, inputSwitchedOff } from "../../src/web/access.js";
import type { ServerInfo } from "../../src/index.js";

const server = (extra: object = {}) => ({ serverId: "s", hostname: "h", ...extra }) as unknown as ServerInfo;

describe("accessOf", () => {
  it("a daemon without devices or the kill switch allows everything, as before", () => {
    expect(accessOf(undefined, server())).toEqual({ control: true, input: true });
    expect(accessOf(undefined, undefined)).toEqual({ control: true, input: true });
  });
  it("read-only: no control and no input", () => {
    expect(accessOf("read-only", server({ inputEnabled: true }))).toEqual({ control: false, input: false });
  });
  it("kill switch: only an explicit false turns input off; control stays", () => {
    expect(accessOf("control", server({ inputEnabled: false }))).toEqual({ control: true, input: false });
    expect(accessOf("control", server({ inputEnabled: true }))).toEqual({ control: true, input: true });
    expect(inputSwitchedOff(server({ inputEnabled: "no" }))).toBe(false);
    expect(inputSwitchedOff(server())).toBe(false);
  });
});
