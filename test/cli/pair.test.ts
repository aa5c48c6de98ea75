import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDuration } from "../../src/cli/commands/pair.js";
import { parseOffer } from "../../src/protocol/offer.js";

const repo = join(import.meta.dirname, "..", "..");
const cli = join(repo, "dist", "cli", "main.js");

let root: string;
let n = 0;
const freshHome = () => join(root, `home-${++n}`);

beforeAll(() => {
  // `npm test` builds dist/ first; build here only when running this file alone on a fresh checkout.
  if (!existsSync(cli)) spawnSync("npm", ["run", "build"], { cwd: repo, stdio: "ignore" });
  if (!existsSync(cli)) throw new Error(`build did not produce ${cli}`);
}, 120_000);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "paseo-pair-cli-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function paseo(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.PASEO_HOME;
  delete base.PASEO_RELAY_OFFER;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...base, HOME: root, ...env }, timeout: 45_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function pairJson(home: string, ...extra: string[]) {
  const r = await paseo(["daemon", "pair", "--json", "--home", home, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    link: string;
    offer: ReturnType<typeof parseOffer>;
    fingerprint: string;
    offerId: string;
    expiresAt: string | null;
    serverId: string;
    once: boolean;
    revoked: string[];
    ticket: boolean;
    rights?: string;
    maxUses?: number | null;
  };
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe("parseDuration", () => {
  it("accepts s/m/h/d/w and combinations; refuses the rest", () => {
    expect(parseDuration("30m")).toBe(30 * 60_000);
    expect(parseDuration("12h")).toBe(12 * 3_600_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("1h30m")).toBe(90 * 60_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    expect(parseDuration("1.5h")).toBe(90 * 60_000);
    expect(parseDuration(" 90S ")).toBe(90_000);
    for (const bad of ["", "10", "m", "1y", "-1h", "0m", "500d", "1h 30m"])
      expect(() => parseDuration(bad), bad).toThrow();
  });
});

describe("paseo daemon pair", { timeout: 60_000 }, () => {
  it("--json: link, full offer, fingerprint, offerId, expiresAt; identity 0600 in a 0700 home", async () => {
    const home = freshHome();
    const out = await pairJson(home);
    expect(out.link.startsWith("http://127.0.0.1:7431/#offer=")).toBe(true);
    expect(parseOffer(out.link)).toEqual(out.offer);
    expect(out.offer.relay).toEqual({ endpoint: "127.0.0.1:7431", tls: false });
    expect(out.offerId).toBe(out.offer.offerId);
    // By default an enrollment ticket (v4): single use, control rights, 15 minutes.
    expect(out.offer.v).toBe(4);
    expect(out).toMatchObject({ ticket: true, once: true, rights: "control", maxUses: 1 });
    expect(Math.abs(Date.parse(out.expiresAt!) - Date.now() - 15 * 60_000)).toBeLessThan(10_000);
    expect(out.fingerprint).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(out.serverId).toBe(out.offer.serverId);
    expect(await mode(home)).toBe(0o700);
    expect(await mode(join(home, "identity.json"))).toBe(0o600);
    expect(await mode(join(home, "offers.json"))).toBe(0o600);
    // same identity next time, new offer
    const again = await pairJson(home);
    expect(again.serverId).toBe(out.serverId);
    expect(again.fingerprint).toBe(out.fingerprint);
    expect(again.offerId).not.toBe(out.offerId);
  });

  it("human output: link, QR and fingerprint; --no-qr omits the QR", async () => {
    const home = freshHome();
    // --qr: the link's relay is on loopback, where no QR is printed by default (test/cli/qr.test.ts).
    const r = await paseo(["daemon", "pair", "--home", home, "--label", "my laptop", "--qr"]);
    expect(r.code, r.stderr).toBe(0);
    const link = /(http:\/\/\S+#offer=\S+)/.exec(r.stdout)?.[1];
    expect(link).toBeDefined();
    expect(parseOffer(link!).label).toBe("my laptop");
    expect(r.stdout).toMatch(/[▄▀█]{10,}/);
    expect(r.stdout).toMatch(/Daemon fingerprint: [a-z2-7]{4}-/);
    const plain = await paseo(["daemon", "pair", "--home", home, "--no-qr"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(/[▄▀█]/);
    expect(plain.stdout).toContain("#offer=");
  });

  it("--save writes the link to a 0600 file", async () => {
    const home = freshHome();
    const file = join(root, `saved-${n}.txt`);
    const out = await pairJson(home, "--save", file);
    expect((await readFile(file, "utf8")).trim()).toBe(out.link);
    expect(await mode(file)).toBe(0o600);
    const bad = await paseo([
      "daemon",
      "pair",
      "--home",
      home,
      "--no-qr",
      "--save",
      join(root, "no", "such", "dir", "x.txt"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot write/);
  });

  it("--ttl sets expiresAt; bad durations are usage errors", async () => {
    const home = freshHome();
    const before = Date.now();
    const out = await pairJson(home, "--ttl", "30m");
    const exp = Date.parse(out.expiresAt!);
    expect(exp).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1000);
    expect(out.offer.expiresAt).toBe(out.expiresAt);
    const week = await pairJson(home, "--ttl", "7d");
    expect(Date.parse(week.expiresAt!) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    for (const bad of ["soon", "0s", "10", "-5m"]) {
      const r = await paseo(["daemon", "pair", "--home", home, "--ttl", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/duration/);
    }
  });

  it("tickets: --uses N, --reusable, --read-only; --bearer makes the old kind; clashing flags are usage errors", async () => {
    const home = freshHome();
    const three = await pairJson(home, "--uses", "3", "--read-only");
    expect(three).toMatchObject({ ticket: true, once: false, maxUses: 3, rights: "read-only" });
    const any = await pairJson(home, "--reusable", "--ttl", "30d");
    expect(any).toMatchObject({ ticket: true, once: false, maxUses: null, rights: "control" });
    expect(Date.parse(any.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const bearer = await pairJson(home, "--bearer");
    expect(bearer).toMatchObject({ ticket: false, once: false, expiresAt: null });
    expect(bearer.offer.v).toBe(3);
    const listed = JSON.parse((await paseo(["daemon", "offers", "--json", "--home", home])).stdout) as {
      id: string;
      ticket?: boolean;
      maxUses?: number;
      rights?: string;
    }[];
    expect(listed.find((o) => o.id === three.offerId)).toMatchObject({ ticket: true, maxUses: 3, rights: "read-only" });
    expect(listed.find((o) => o.id === bearer.offerId)?.ticket).toBeUndefined();
    const table = await paseo(["daemon", "offers", "--home", home]);
    expect(table.stdout).toContain("active (ticket, read-only, 3 left)");
    expect(table.stdout).toContain("active (bearer)");
    for (const bad of [
      ["--bearer", "--read-only"],
      ["--bearer", "--uses", "2"],
      ["--reusable", "--uses", "2"],
    ]) {
      const r = await paseo(["daemon", "pair", "--home", home, ...bad]);
      expect(r.code, bad.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/\[USAGE\]/);
    }
    const zero = await paseo(["daemon", "pair", "--home", home, "--uses", "0"]);
    expect(zero.code).toBe(2);
  });

  it("--once, `offers` listing without secrets, `offers revoke`, unknown id", async () => {
    const home = freshHome();
    const a = await pairJson(home, "--bearer", "--once", "--label", "phone");
    expect(a.once).toBe(true);
    const b = await pairJson(home, "--ttl", "12h");

    const list = await paseo(["daemon", "offers", "--home", home, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const offers = JSON.parse(list.stdout) as Array<{ id: string; state: string; once: boolean; label?: string }>;
    expect(offers.map((o) => o.id)).toEqual([a.offerId, b.offerId]);
    expect(offers[0]).toMatchObject({ state: "active", once: true, label: "phone" });
    for (const text of [list.stdout]) {
      expect(text).not.toContain(a.offer.secretB64);
      expect(text).not.toContain(b.offer.secretB64);
      expect(text).not.toContain("secretB64");
    }
    const tableOut = await paseo(["daemon", "offers", "--home", home]);
    expect(tableOut.code).toBe(0);
    expect(tableOut.stdout).toMatch(/ID\s+STATE\s+LABEL/);
    expect(tableOut.stdout).toContain(a.offerId);
    expect(tableOut.stdout).not.toContain(a.offer.secretB64);

    const rv = await paseo(["daemon", "offers", "revoke", a.offerId, "--home", home]);
    expect(rv.code, rv.stderr).toBe(0);
    expect(rv.stdout).toContain(`Revoked offer ${a.offerId}`);
    const rv2 = await paseo(["daemon", "offers", "--home", home, "revoke", b.offerId.slice(0, 6), "--json"]);
    expect(rv2.code, rv2.stderr).toBe(0);
    expect(JSON.parse(rv2.stdout)).toMatchObject({ id: b.offerId, state: "revoked" });
    const states = JSON.parse((await paseo(["daemon", "offers", "--json", "--home", home])).stdout) as Array<{
      state: string;
    }>;
    expect(states.map((s) => s.state)).toEqual(["revoked", "revoked"]);

    const unknown = await paseo(["daemon", "offers", "revoke", "zzzzzzzz", "--home", home]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no offer with id "zzzzzzzz".*\[OFFER_NOT_FOUND\]/);
  });

  it("--rotate revokes every standing offer", async () => {
    const home = freshHome();
    const a = await pairJson(home);
    const b = await pairJson(home);
    const c = await pairJson(home, "--rotate");
    expect(c.revoked.sort()).toEqual([a.offerId, b.offerId].sort());
    const offers = JSON.parse((await paseo(["daemon", "offers", "--json", "--home", home])).stdout) as Array<{
      id: string;
      state: string;
    }>;
    expect(Object.fromEntries(offers.map((o) => [o.id, o.state]))).toEqual({
      [a.offerId]: "revoked",
      [b.offerId]: "revoked",
      [c.offerId]: "active",
    });
  });

  it("PASEO_HOME is used without --home; empty listing message", async () => {
    const home = freshHome();
    const empty = await paseo(["daemon", "offers"], { PASEO_HOME: home });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/No pairing offers/);
    const r = await paseo(["daemon", "pair", "--json"], { PASEO_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home, "identity.json"))).toBe(true);
  });

  it("relay: --relay > config.json > embedded default; the app URL (appUrl, formerly publicUrl) sets the link base", async () => {
    const home = freshHome();
    const viaFlag = await pairJson(home, "--relay", "wss://relay.example.com");
    expect(viaFlag.offer.relay).toEqual({ endpoint: "relay.example.com:443", tls: true });
    // Never the remote relay's own URL (issue 15: whoever serves the page reads the offer): with no app URL, a link
    // points at no web origin and opens with `paseo open`.
    expect(viaFlag.link.startsWith("paseo://open/#offer=")).toBe(true);
    await writeFile(
      join(home, "config.json"),
      JSON.stringify({ relay: { endpoint: "r.example.net:8443", tls: true }, publicUrl: "https://app.paseo.sh" }),
    );
    const viaConfig = await pairJson(home);
    expect(viaConfig.offer.relay).toEqual({ endpoint: "r.example.net:8443", tls: true });
    expect(viaConfig.link.startsWith("https://app.paseo.sh/#offer=")).toBe(true);
    const bad = await paseo(["daemon", "pair", "--home", home, "--relay", "not a url"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--relay must look like.*\[USAGE\]/);
    const asLink = await paseo(["daemon", "pair", "--home", home, "--relay", viaConfig.link]);
    expect(asLink.code).toBe(1);
    expect(asLink.stderr).toMatch(/not a pairing link/);
    expect(asLink.stderr).not.toContain(viaConfig.offer.secretB64);
    expect(asLink.stderr).not.toContain(viaConfig.link.split("#")[1]);
  });

  it("a corrupt identity stops pairing with a recovery hint and is not replaced", async () => {
    const home = freshHome();
    await mkdir(home, { recursive: true });
    await writeFile(join(home, "identity.json"), "{garbage", { mode: 0o600 });
    const r = await paseo(["daemon", "pair", "--home", home, "--no-qr"]);
    expect(r.code).toBe(1);
    // (long paths may be shortened by the CLI's redaction of long tokens)
    expect(r.stderr).toMatch(/daemon identity file .*\.json is corrupt \(not valid JSON\)/);
    expect(r.stderr).toMatch(/move it away/);
    expect(r.stderr).toContain("[IDENTITY_CORRUPT]");
    expect(await readFile(join(home, "identity.json"), "utf8")).toBe("{garbage");
    expect(existsSync(join(home, "offers.json"))).toBe(false);
  });
});
