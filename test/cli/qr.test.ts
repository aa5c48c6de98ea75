/**
 * The QR code of `paseo daemon pair` and `paseo daemon start` (issue 12, item 10): compact (two modules per text
 * row), printed only when another device can open the link unless --qr asks for it, and never after the link and
 * the fingerprint — those are the last lines, so they stay on screen in an 80×24 terminal. Real CLI processes.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isLocalOnlyLink, shouldPrintQr } from "../../src/cli/qr.js";
import { killAll, runCli, startProcess, tmpHome } from "../e2e/harness.js";

afterAll(killAll);

const QR_CHARS = /[▄▀█]/;

/** The QR block: consecutive lines made only of half/full blocks and spaces (qrcode-terminal's small mode). */
function qrLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.length > 10 && /^[▄▀█ ]+$/.test(l));
}

/** The last two non-empty lines must be the link and the fingerprint. */
function expectLinkAndFingerprintLast(stdout: string): void {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  expect(lines.at(-2)).toMatch(/^ {2}https?:\/\/\S+#offer=[A-Za-z0-9_-]+$/);
  expect(lines.at(-1)).toMatch(/^Daemon fingerprint: [a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
}

describe("which links get a QR code", () => {
  it("loopback and unspecified hosts are local-only; LAN and public hosts are not", () => {
    for (const link of [
      "http://127.0.0.1:7431/#offer=x",
      "http://127.8.9.10:1/#offer=x",
      "http://localhost:7431/#offer=x",
      "http://paseo.localhost/#offer=x",
      "http://[::1]:7431/#offer=x",
      "http://0.0.0.0:7431/#offer=x",
      "http://[::]:7431/#offer=x",
      "http://[::ffff:127.0.0.1]:7431/#offer=x",
      "not a url",
    ]) {
      expect(isLocalOnlyLink(link), link).toBe(true);
    }
    for (const link of [
      "http://192.168.1.20:7431/#offer=x",
      "https://relay.example.com/#offer=x",
      "http://[fd00::1]:7431/#offer=x",
      "http://128.0.0.1/#offer=x",
    ]) {
      expect(isLocalOnlyLink(link), link).toBe(false);
    }
  });

  it("a public link whose offer names a loopback relay is local-only too (a phone could open the app, not reach the relay)", () => {
    expect(isLocalOnlyLink("https://app.example.com/#offer=x", "127.0.0.1:7431")).toBe(true);
    expect(isLocalOnlyLink("https://app.example.com/#offer=x", "[::1]:7431")).toBe(true);
    expect(isLocalOnlyLink("https://app.example.com/#offer=x", "relay.example.com:443")).toBe(false);
    expect(isLocalOnlyLink("http://192.168.1.20:7431/#offer=x", "192.168.1.20:7431")).toBe(false);
  });

  it("--qr and --no-qr override the default", () => {
    expect(shouldPrintQr(undefined, "http://127.0.0.1:7431/#offer=x")).toBe(false);
    expect(shouldPrintQr(true, "http://127.0.0.1:7431/#offer=x")).toBe(true);
    expect(shouldPrintQr(undefined, "https://relay.example.com/#offer=x")).toBe(true);
    expect(shouldPrintQr(false, "https://relay.example.com/#offer=x")).toBe(false);
  });
});

describe("paseo daemon pair", { timeout: 60_000 }, () => {
  it("loopback relay: no QR by default (says how to get one); link and fingerprint are the last lines", async () => {
    const home = tmpHome();
    const r = await runCli(["daemon", "pair", "--home", home, "--label", "laptop"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(QR_CHARS);
    expect(r.stdout).toContain("--qr prints one anyway");
    expectLinkAndFingerprintLast(r.stdout);
  });

  it("a public link (config publicUrl) to a loopback relay: no QR by default", async () => {
    const home = tmpHome();
    chmodSync(home, 0o700);
    writeFileSync(join(home, "config.json"), JSON.stringify({ publicUrl: "https://app.example.com/" }), {
      mode: 0o600,
    });
    const r = await runCli(["daemon", "pair", "--home", home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}https:\/\/app\.example\.com\/#offer=/m);
    expect(r.stdout).not.toMatch(QR_CHARS);
    expectLinkAndFingerprintLast(r.stdout);
  });

  it("--qr on loopback, and a LAN relay by default: a compact QR above the link and fingerprint; --no-qr: none", async () => {
    const home = tmpHome();
    // A LAN relay's link opens in a phone's browser only through an app URL (here: that relay run with --serve-app).
    for (const args of [["--qr"], ["--relay", "192.168.1.20:7431", "--app-url", "http://192.168.1.20:7431/"]]) {
      const r = await runCli(["daemon", "pair", "--home", home, ...args]);
      expect(r.code, r.stderr).toBe(0);
      const qr = qrLines(r.stdout);
      const link = /(http:\/\/\S+#offer=\S+)/.exec(r.stdout)![1]!;
      // Small mode: one column per module and two modules per row, so the QR is about as wide as its module count
      // (plus a 1–2 module border) and half as tall — and it fits an 80-column terminal.
      const width = Math.max(...qr.map((l) => [...l].length));
      expect(width).toBeLessThan(80);
      expect(qr.length).toBeLessThanOrEqual(Math.ceil(width / 2) + 1);
      expect(qr.length).toBeGreaterThanOrEqual(Math.floor(width / 2) - 2);
      // A version-1 QR is 21 modules; a link of this length needs far more, so this is a real code, not a stub.
      expect(link.length).toBeGreaterThan(100);
      expect(width).toBeGreaterThan(40);
      expectLinkAndFingerprintLast(r.stdout);
      expect(r.stdout.indexOf(qr[0]!)).toBeLessThan(r.stdout.indexOf(link));
    }
    const none = await runCli(["daemon", "pair", "--home", home, "--relay", "192.168.1.20:7431", "--no-qr"]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).not.toMatch(QR_CHARS);
    expect(none.stdout).not.toContain("--qr prints one anyway");
    expectLinkAndFingerprintLast(none.stdout);
  });
});

describe("paseo daemon start (embedded relay on an ephemeral loopback port)", { timeout: 60_000 }, () => {
  for (const [args, wantsQr] of [
    [[], false],
    [["--qr"], true],
  ] as const) {
    it(`${args.join(" ") || "(default)"}: ${wantsQr ? "a QR code" : "no QR code"}, then the link and the fingerprint last`, async () => {
      const daemon = startProcess(["daemon", "start", "--home", tmpHome(), "--relay-port", "0", ...args]);
      await daemon.waitFor(/Daemon fingerprint: \S+\n/);
      expect(qrLines(daemon.stdout()).length > 0).toBe(wantsQr);
      expectLinkAndFingerprintLast(daemon.stdout());
      expect(await daemon.stop()).toBe(0);
    });
  }
});
