/**
 * The QR code shown by `paseo daemon start` and `paseo daemon pair`, and when to show it.
 *
 * A QR code is for a phone's camera: it is only useful when the link it encodes can be opened from another device.
 * A link whose relay is on loopback (the embedded relay's default 127.0.0.1:7431) cannot, so by default no QR is
 * printed for it; `--qr` prints one anyway, `--no-qr` never. Callers print the QR BEFORE the link and the
 * fingerprint, so those two stay on screen in an 80×24 terminal even when the QR is taller than the screen.
 */
import { createRequire } from "node:module";

/** `--qr` → true, `--no-qr` → false, neither → undefined (decide from the link). */
export type QrChoice = boolean | undefined;

/** Host names that only ever reach the machine they are typed on (or no machine at all). */
const LOCAL_ONLY_HOSTS = new Set(["localhost", "0.0.0.0", "[::]", "[::1]", "[::0]"]);

/** true for a host name (as in a URL: IPv6 in brackets) that only reaches this machine, or no machine at all. */
export function isLocalOnlyHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (LOCAL_ONLY_HOSTS.has(host) || host.endsWith(".localhost")) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  // IPv4-mapped loopback, as the WHATWG URL parser normalizes it: [::ffff:7f00:1].
  return /^\[::ffff:(?:7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.\d+\.\d+\.\d+)\]$/.test(host);
}

/**
 * true when no other device could use `link`: its host is loopback (127.0.0.0/8, ::1, localhost, *.localhost) or
 * unspecified (0.0.0.0, ::), or it does not parse as a URL — or the relay the offer names (`relayEndpoint`,
 * host:port) is, since a phone that opens the app must still reach that relay (a configured publicUrl can make
 * the two differ).
 */
export function isLocalOnlyLink(link: string, relayEndpoint?: string): boolean {
  let host: string;
  try {
    const url = new URL(link);
    if (url.protocol !== "http:" && url.protocol !== "https:") return true; // no app URL: no browser can open it
    host = url.hostname;
  } catch {
    return true;
  }
  if (isLocalOnlyHost(host)) return true;
  return relayEndpoint !== undefined && isLocalOnlyHost(relayEndpoint.replace(/:\d+$/, ""));
}

/** Whether to print a QR code for `link` given the user's --qr / --no-qr choice. */
export function shouldPrintQr(choice: QrChoice, link: string, relayEndpoint?: string): boolean {
  return choice ?? !isLocalOnlyLink(link, relayEndpoint);
}

/** One line for when the QR was left out because of a loopback link, so the user knows how to get it anyway. */
export const QR_SKIPPED_NOTE = "(no QR code: this link's relay is on loopback; --qr prints one anyway)";

/**
 * Render `text` as a compact terminal QR code: qrcode-terminal's small mode, two modules per character cell
 * (upper/lower half blocks), so each module is about square and the code is half as tall as the default mode and
 * half as wide. Error correction L (qrcode-terminal's default) keeps the version, and so the size, smallest; a
 * screen has no dirt or creases to correct. qrcode-terminal is CommonJS without types.
 */
export function renderQr(text: string): string {
  const require = createRequire(import.meta.url);
  const qrcode = require("qrcode-terminal") as {
    generate(input: string, opts: { small: boolean }, cb: (qr: string) => void): void;
  };
  let out = "";
  qrcode.generate(text, { small: true }, (qr) => {
    out = qr;
  });
  return out;
}
