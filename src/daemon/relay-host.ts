/**
 * Where the daemon's embedded relay listens (`paseo daemon start --relay-host`) and which address links advertise.
 *
 * The embedded relay listens on loopback by default. `--relay-host` puts it on the local network so a phone on the
 * same Wi-Fi can reach it: `0.0.0.0` (every IPv4 interface; `::` every interface), an interface name (`eth0`,
 * `wlan0`: its first IPv4 address, else its first IPv6 one) or an address of this machine. The value is saved as
 * typed and resolved at every start, because DHCP moves a laptop's address between networks.
 *
 * The address put in links (the "advertised" host) is the one a phone can dial: the bound address itself, or for
 * 0.0.0.0/:: the first non-internal IPv4 address of any interface. `--relay-advertise <host>` overrides it (a DNS
 * name, or the address a NAT or VPN shows). The daemon's own link to its relay always stays on loopback: when the
 * relay is bound to one address, it also listens on 127.0.0.1 (same port).
 */
import os from "node:os";
import { isIP } from "node:net";
import { PaseoError } from "../protocol/errors.js";
import { describeInput } from "../protocol/redact.js";

export type RelayHostErrorCode = "RELAY_HOST_UNKNOWN" | "RELAY_HOST_NO_ADDRESS" | "RELAY_ADVERTISE_INVALID";

export class RelayHostError extends PaseoError {
  declare readonly code: RelayHostErrorCode;
  constructor(code: RelayHostErrorCode, message: string) {
    super(code, message);
  }
}

/** What the embedded relay binds and what links name. */
export interface EmbeddedRelayBinding {
  /** Address passed to listen(). */
  bind: string;
  /** Further addresses on the same port: 127.0.0.1 when `bind` is one non-loopback address (the daemon's own link). */
  alsoListen: string[];
  /** Host (URL form: IPv6 in brackets) put in offers and links; 127.0.0.1 for a loopback relay. */
  advertise: string;
  /** false for the default loopback relay; true when other machines can reach it. */
  lan: boolean;
}

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const UNSPECIFIED = new Set(["0.0.0.0", "::", "[::]"]);

/** true for the default: no --relay-host, or one that only reaches this machine. */
export function isLoopbackRelayHost(spec: string | undefined): boolean {
  if (spec === undefined || spec === "" || spec === "localhost" || spec === "::1" || spec === "[::1]") return true;
  return /^127\.\d+\.\d+\.\d+$/.test(spec);
}

function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

function interfaceNames(interfaces: Interfaces): string {
  return Object.keys(interfaces).join(", ") || "none";
}

/** The first non-internal IPv4 address of any interface, in the order the OS lists them. */
function firstLanIPv4(interfaces: Interfaces): string | undefined {
  for (const list of Object.values(interfaces)) {
    const a = list?.find((i) => i.family === "IPv4" && !i.internal);
    if (a) return a.address;
  }
  return undefined;
}

/** Validate `--relay-advertise`: a host name, an IPv4 address or an IPv6 address (bracketed or not). */
export function parseAdvertiseHost(text: string): string {
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare) === 6) return `[${bare}]`;
  if (isIP(bare) === 4) return bare;
  if (/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(text))
    return text.toLowerCase();
  throw new RelayHostError(
    "RELAY_ADVERTISE_INVALID",
    `--relay-advertise "${describeInput(text)}" is not a host name or an IP address (give what a phone should dial, e.g. 192.168.1.20 or mylaptop.lan, without a scheme or port)`,
  );
}

/**
 * Resolve `--relay-host` (as saved) against this machine's interfaces. Throws RelayHostError with what to do when
 * it names nothing here, or when nothing can be advertised.
 */
export function resolveRelayHost(
  spec: string | undefined,
  advertise?: string,
  interfaces: Interfaces = os.networkInterfaces(),
): EmbeddedRelayBinding {
  if (isLoopbackRelayHost(spec)) return { bind: "127.0.0.1", alsoListen: [], advertise: "127.0.0.1", lan: false };
  const text = spec!.replace(/^\[(.*)\]$/, "$1");
  const override = advertise !== undefined ? parseAdvertiseHost(advertise) : undefined;
  if (UNSPECIFIED.has(text)) {
    const lan = override ?? firstLanIPv4(interfaces);
    if (lan === undefined) {
      throw new RelayHostError(
        "RELAY_HOST_NO_ADDRESS",
        `--relay-host ${text}: this machine has no non-loopback IPv4 address to put in links (interfaces: ${interfaceNames(interfaces)}); join a network, or pass --relay-advertise <host> with the name or address other devices use`,
      );
    }
    return { bind: text, alsoListen: [], advertise: override ?? urlHost(lan), lan: true };
  }
  if (isIP(text) !== 0) {
    const own = Object.values(interfaces).some((list) => list?.some((i) => i.address === text));
    if (!own) {
      throw new RelayHostError(
        "RELAY_HOST_UNKNOWN",
        `--relay-host ${text}: no interface of this machine has that address (interfaces: ${interfaceNames(interfaces)}); use 0.0.0.0 for every interface, an interface name, or one of its addresses (ip addr)`,
      );
    }
    return { bind: text, alsoListen: ["127.0.0.1"], advertise: override ?? urlHost(text), lan: true };
  }
  const list = interfaces[text];
  if (list === undefined) {
    throw new RelayHostError(
      "RELAY_HOST_UNKNOWN",
      `--relay-host "${describeInput(text)}": no such network interface or address on this machine (interfaces: ${interfaceNames(interfaces)}); use 0.0.0.0 for every interface, one of those names, or one of their addresses`,
    );
  }
  const a =
    list.find((i) => i.family === "IPv4") ?? list.find((i) => i.family === "IPv6" && !i.address.startsWith("fe80:"));
  if (a === undefined) {
    throw new RelayHostError(
      "RELAY_HOST_NO_ADDRESS",
      `--relay-host ${text}: that interface has no usable address right now (is it connected?); use 0.0.0.0, another interface (${interfaceNames(interfaces)}), or an address`,
    );
  }
  if (a.internal) return { bind: a.address, alsoListen: [], advertise: urlHost(a.address), lan: false };
  return { bind: a.address, alsoListen: ["127.0.0.1"], advertise: override ?? urlHost(a.address), lan: true };
}
