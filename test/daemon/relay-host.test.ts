/** resolveRelayHost(): --relay-host / --relay-advertise against a given interface table (what os.networkInterfaces returns). */
import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { RelayHostError, parseAdvertiseHost, resolveRelayHost } from "../../src/daemon/relay-host.js";

const ni = (address: string, family: "IPv4" | "IPv6", internal = false) =>
  ({ address, family, internal, netmask: "", mac: "", cidr: null }) as unknown as NetworkInterfaceInfo;
const lo = [ni("127.0.0.1", "IPv4", true), ni("::1", "IPv6", true)];
const withLan = { lo, wlan0: [ni("fe80::1", "IPv6"), ni("192.168.1.20", "IPv4")] };
const onlyLo = { lo };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayHostError) return err.code;
    throw err;
  }
  return undefined;
}

describe("resolveRelayHost", () => {
  it("defaults and loopback spellings stay on loopback", () => {
    for (const spec of [undefined, "127.0.0.1", "localhost", "::1"])
      expect(resolveRelayHost(spec, undefined, withLan)).toEqual({
        bind: "127.0.0.1",
        alsoListen: [],
        advertise: "127.0.0.1",
        lan: false,
      });
  });
  it("0.0.0.0 advertises the first non-internal IPv4; --relay-advertise overrides", () => {
    expect(resolveRelayHost("0.0.0.0", undefined, withLan)).toMatchObject({
      bind: "0.0.0.0",
      advertise: "192.168.1.20",
      lan: true,
    });
    expect(resolveRelayHost("0.0.0.0", "MyLaptop.lan", withLan).advertise).toBe("mylaptop.lan");
    expect(resolveRelayHost("::", "fd00::2", withLan).advertise).toBe("[fd00::2]");
  });
  it("0.0.0.0 with no LAN address asks for --relay-advertise", () => {
    expect(code(() => resolveRelayHost("0.0.0.0", undefined, onlyLo))).toBe("RELAY_HOST_NO_ADDRESS");
    expect(resolveRelayHost("0.0.0.0", "127.0.0.1", onlyLo).advertise).toBe("127.0.0.1");
  });
  it("an interface binds its IPv4 address and loopback too", () => {
    expect(resolveRelayHost("wlan0", undefined, withLan)).toEqual({
      bind: "192.168.1.20",
      alsoListen: ["127.0.0.1"],
      advertise: "192.168.1.20",
      lan: true,
    });
  });
  it("unknown names and foreign addresses are named errors; a bad advertise too", () => {
    expect(code(() => resolveRelayHost("eth9", undefined, withLan))).toBe("RELAY_HOST_UNKNOWN");
    expect(code(() => resolveRelayHost("10.9.9.9", undefined, withLan))).toBe("RELAY_HOST_UNKNOWN");
    expect(code(() => resolveRelayHost("wlan1", undefined, { wlan1: [] }))).toBe("RELAY_HOST_NO_ADDRESS");
    expect(code(() => parseAdvertiseHost("http://x:1"))).toBe("RELAY_ADVERTISE_INVALID");
  });
});
