import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile, chmod } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_EMBEDDED_RELAY,
  HomeError,
  ensureHome,
  loadConfig,
  readJsonFile,
  resolveHome,
  saveConfig,
  withFileLock,
  writeFileAtomic,
} from "../../src/daemon/home.js";
import { IdentityError, identityPath, loadIdentity, loadOrCreateIdentity } from "../../src/daemon/identity.js";
import { nobleBackend } from "../../src/protocol/crypto/noble.js";
import { loadBackend } from "../../src/protocol/crypto/select.js";
import { toBase64Url } from "../../src/protocol/encoding.js";
import { deriveServerId, keyFingerprint } from "../../src/protocol/server-id.js";

let root: string;
let n = 0;
const freshHome = () => join(root, `home-${++n}`, "paseo");

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "paseo-identity-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe("resolveHome", () => {
  it("arg > PASEO_HOME > ~/.paseo", () => {
    expect(resolveHome("/x/y", { PASEO_HOME: "/env" })).toBe("/x/y");
    expect(resolveHome(undefined, { PASEO_HOME: "/env" })).toBe("/env");
    expect(resolveHome(undefined, {})).toBe(join(homedir(), ".paseo"));
    expect(resolveHome("", { PASEO_HOME: "" })).toBe(join(homedir(), ".paseo"));
    expect(resolveHome("~/p", {})).toBe(join(homedir(), "p"));
    expect(resolveHome("rel", {})).toBe(join(process.cwd(), "rel"));
  });
});

describe("home helpers", () => {
  it("ensureHome creates 0700 directories; a file in the way is a clear error", async () => {
    const home = freshHome();
    await ensureHome(home);
    expect(await mode(home)).toBe(0o700);
    await ensureHome(home); // idempotent
    const file = join(root, "a-file");
    await writeFile(file, "x");
    await expect(ensureHome(file)).rejects.toThrow(/exists but is not a directory/);
  });

  it("writeFileAtomic: content, mode 0600 (also on overwrite), no temp files left", async () => {
    const home = freshHome();
    await ensureHome(home);
    const p = join(home, "f.json");
    await writeFileAtomic(p, "one");
    await writeFile(join(home, "g"), "x", { mode: 0o644 });
    expect(await readFile(p, "utf8")).toBe("one");
    expect(await mode(p)).toBe(0o600);
    await chmod(p, 0o644);
    await writeFileAtomic(p, new TextEncoder().encode("two"));
    expect(await readFile(p, "utf8")).toBe("two");
    expect(await mode(p)).toBe(0o600);
    await writeFileAtomic(join(home, "pub"), "x", 0o640);
    expect(await mode(join(home, "pub"))).toBe(0o640);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(p, `v${i}`)));
    expect((await readdir(home)).sort()).toEqual(["f.json", "g", "pub"]);
  });

  it("writeFileAtomic failure leaves no temp file and names the path", async () => {
    const home = freshHome();
    await ensureHome(home);
    const target = join(home, "dir-in-the-way");
    await mkdir(target);
    await writeFile(join(target, "x"), "x");
    await expect(writeFileAtomic(target, "data")).rejects.toThrow(HomeError);
    await expect(writeFileAtomic(join(home, "no", "such", "dir"), "data")).rejects.toThrow(
      /cannot write .*no\/such\/dir/,
    );
    expect(await readdir(home)).toEqual(["dir-in-the-way"]);
  });

  it("readJsonFile: missing → undefined; bad JSON and unreadable → HomeError naming the file", async () => {
    const home = freshHome();
    await ensureHome(home);
    expect(await readJsonFile(join(home, "nope.json"))).toBeUndefined();
    await writeFile(join(home, "bad.json"), "{nope");
    await expect(readJsonFile(join(home, "bad.json"))).rejects.toMatchObject({ code: "FILE_CORRUPT" });
    await expect(readJsonFile(join(home, "bad.json"))).rejects.toThrow(/bad\.json is not valid JSON/);
    await mkdir(join(home, "d.json"));
    await expect(readJsonFile(join(home, "d.json"))).rejects.toMatchObject({ code: "FILE_UNREADABLE" });
  });

  it("withFileLock serialises read-modify-write (in process)", async () => {
    const home = freshHome();
    await ensureHome(home);
    const p = join(home, "counter.json");
    await writeFileAtomic(p, JSON.stringify({ n: 0 }));
    await Promise.all(
      Array.from({ length: 25 }, () =>
        withFileLock(p, async () => {
          const { n } = (await readJsonFile(p)) as { n: number };
          await new Promise((r) => setTimeout(r, 1));
          await writeFileAtomic(p, JSON.stringify({ n: n + 1 }));
        }),
      ),
    );
    expect(await readJsonFile(p)).toEqual({ n: 25 });
    expect(await readdir(home)).toEqual(["counter.json"]);
  });

  it("withFileLock serialises read-modify-write across processes", async () => {
    const home = freshHome();
    await ensureHome(home);
    const bundle = join(root, "home-bundle.mjs");
    await build({
      entryPoints: [join(import.meta.dirname, "..", "..", "src", "daemon", "home.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "silent",
    });
    const script = join(root, "incr.mjs");
    await writeFile(
      script,
      `import { withFileLock, readJsonFile, writeFileAtomic } from ${JSON.stringify(bundle)};
       const p = process.argv[2];
       for (let i = 0; i < 30; i++) {
         await withFileLock(p, async () => {
           const { n } = (await readJsonFile(p)) ?? { n: 0 };
           await writeFileAtomic(p, JSON.stringify({ n: n + 1 }));
         }, { timeoutMs: 20000 });
       }`,
    );
    const p = join(home, "counter.json");
    const run = () =>
      new Promise<void>((resolve, reject) =>
        execFile(process.execPath, [script, p], (err, _o, stderr) =>
          err ? reject(new Error(stderr || String(err))) : resolve(),
        ),
      );
    await Promise.all([run(), run(), run(), run()]);
    expect(await readJsonFile(p)).toEqual({ n: 120 });
    expect(await readdir(home)).toEqual(["counter.json"]);
  });

  it("withFileLock: a stale lock of a dead pid is broken; a live one times out with a clear error", async () => {
    const home = freshHome();
    await ensureHome(home);
    const p = join(home, "x.json");
    await writeFile(`${p}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, at: "2001-01-01T00:00:00Z" }));
    expect(await withFileLock(p, async () => "ran")).toBe("ran");
    await writeFile(`${p}.lock`, JSON.stringify({ pid: process.ppid }));
    await expect(withFileLock(p, async () => "ran", { timeoutMs: 100 })).rejects.toThrow(
      new RegExp(`locked by process ${process.ppid}.*remove .*x\\.json\\.lock`),
    );
    // an empty lock file older than staleMs is stale
    await writeFile(`${p}.lock`, "");
    await new Promise((r) => setTimeout(r, 30));
    expect(await withFileLock(p, async () => "ok", { staleMs: 10 })).toBe("ok");
  });

  it("config: load {} when missing, save/load round trip (0600), invalid config named", async () => {
    const home = freshHome();
    expect(await loadConfig(home)).toEqual({});
    await saveConfig(home, {
      relay: { endpoint: "relay.example.com:443", tls: true },
      publicUrl: "https://app.paseo.sh",
      other: 1,
    });
    expect(await loadConfig(home)).toEqual({
      relay: { endpoint: "relay.example.com:443", tls: true },
      publicUrl: "https://app.paseo.sh",
      other: 1,
    });
    expect(await mode(join(home, "config.json"))).toBe(0o600);
    expect(await mode(home)).toBe(0o700);
    await writeFile(join(home, "config.json"), JSON.stringify({ relay: { endpoint: "wss://x", tls: true } }));
    await expect(loadConfig(home)).rejects.toThrow(/config\.json: "relay.endpoint" must be "host:port"/);
    await writeFile(join(home, "config.json"), JSON.stringify({ relay: { endpoint: "x:1", tls: "yes" } }));
    await expect(loadConfig(home)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await writeFile(join(home, "config.json"), JSON.stringify({ publicUrl: "ftp://x" }));
    await expect(loadConfig(home)).rejects.toThrow(/publicUrl/);
    await expect(saveConfig(home, { relay: { endpoint: "nope", tls: true } })).rejects.toThrow(HomeError);
    expect(DEFAULT_EMBEDDED_RELAY).toEqual({ endpoint: "127.0.0.1:7431", tls: false });
  });
});

describe("identity", () => {
  it("creates a key pair: identity.json 0600 in a 0700 home, stable on reload", async () => {
    const home = freshHome();
    const a = await loadOrCreateIdentity(home, nobleBackend);
    expect(a.created).toBe(true);
    expect(a.publicKey.length).toBe(32);
    expect(a.secretKey.length).toBe(32);
    expect(a.serverId).toBe(deriveServerId(nobleBackend, a.publicKey));
    expect(a.fingerprint).toBe(keyFingerprint(nobleBackend, a.publicKey));
    expect(a.path).toBe(identityPath(home));
    expect(await mode(home)).toBe(0o700);
    expect(await mode(identityPath(home))).toBe(0o600);
    const file = JSON.parse(await readFile(identityPath(home), "utf8"));
    expect(Object.keys(file).sort()).toEqual(["createdAt", "publicKeyB64", "secretKeyB64", "v"]);
    expect(file.v).toBe(1);
    expect(file.publicKeyB64).toBe(toBase64Url(a.publicKey));

    const b = await loadOrCreateIdentity(home, await loadBackend("native"));
    expect(b.created).toBe(false);
    expect(b.serverId).toBe(a.serverId);
    expect(b.secretKey).toEqual(a.secretKey);
    const c = await loadIdentity(home);
    expect(c.serverId).toBe(a.serverId);
    expect(c.created).toBe(false);
    expect(await readdir(home)).toEqual(["identity.json"]); // no temp or lock files left
  });

  it("concurrent creation yields one identity", async () => {
    const home = freshHome();
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(home, nobleBackend)));
    expect(new Set(all.map((i) => i.serverId)).size).toBe(1);
    expect(all.filter((i) => i.created).length).toBe(1);
    expect(await readdir(home)).toEqual(["identity.json"]);
  });

  it("loadIdentity never creates", async () => {
    const home = freshHome();
    const err = await loadIdentity(home, nobleBackend).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe("IDENTITY_MISSING");
    await expect(stat(home)).rejects.toThrow();
  });

  it("loose permissions on identity.json are tightened to 0600", async () => {
    const home = freshHome();
    await loadOrCreateIdentity(home, nobleBackend);
    await chmod(identityPath(home), 0o644);
    await loadIdentity(home, nobleBackend);
    expect(await mode(identityPath(home))).toBe(0o600);
  });

  const good = () => {
    const { publicKey, secretKey } = nobleBackend.generateKeyPair();
    return {
      v: 1,
      secretKeyB64: toBase64Url(secretKey),
      publicKeyB64: toBase64Url(publicKey),
      createdAt: new Date().toISOString(),
    };
  };
  const other = nobleBackend.generateKeyPair();
  const corruptions: Array<[string, string, RegExp]> = [
    ["empty file", "", /not valid JSON/],
    ["truncated JSON", JSON.stringify(good()).slice(0, 30), /not valid JSON/],
    ["not an object", "[1]", /not a JSON object/],
    ["wrong version", JSON.stringify({ ...good(), v: 7 }), /unsupported format version 7/],
    ["missing secret", JSON.stringify({ ...good(), secretKeyB64: undefined }), /secretKeyB64 is missing/],
    [
      "short secret",
      JSON.stringify({ ...good(), secretKeyB64: toBase64Url(new Uint8Array(31)) }),
      /secretKeyB64 is 31 bytes/,
    ],
    ["bad base64", JSON.stringify({ ...good(), publicKeyB64: "***" }), /publicKeyB64 is not valid base64url/],
    [
      "mismatched public key",
      JSON.stringify({ ...good(), publicKeyB64: toBase64Url(other.publicKey) }),
      /public key does not match/,
    ],
  ];
  for (const [name, content, re] of corruptions) {
    it(`corrupt key file (${name}) → IdentityError, file NOT replaced`, async () => {
      const home = freshHome();
      await ensureHome(home);
      const p = identityPath(home);
      await writeFile(p, content, { mode: 0o600 });
      for (const load of [() => loadOrCreateIdentity(home, nobleBackend), () => loadIdentity(home, nobleBackend)]) {
        const err = await load().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IdentityError);
        expect((err as IdentityError).code).toBe("IDENTITY_CORRUPT");
        expect((err as Error).message).toMatch(re);
        expect((err as Error).message).toContain(p);
        expect((err as Error).message).toMatch(/move it away/);
        expect((err as Error).message).toMatch(/re-pair/);
        expect((err as Error).message).not.toContain(JSON.parse(JSON.stringify(good())).secretKeyB64);
      }
      expect(await readFile(p, "utf8")).toBe(content);
      expect(await readdir(home)).toEqual(["identity.json"]);
    });
  }

  it("corrupt error does not echo the secret key", async () => {
    const home = freshHome();
    await ensureHome(home);
    const g = { ...good(), publicKeyB64: toBase64Url(other.publicKey) };
    await writeFile(identityPath(home), JSON.stringify(g));
    const err = (await loadIdentity(home, nobleBackend).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain(g.secretKeyB64);
  });

  it("unreadable key file → IDENTITY_UNREADABLE, nothing replaced", async () => {
    const home = freshHome();
    await ensureHome(home);
    await mkdir(identityPath(home)); // reading a directory fails (works as root too, unlike chmod 000)
    const err = await loadOrCreateIdentity(home, nobleBackend).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe("IDENTITY_UNREADABLE");
    expect((err as Error).message).toContain(identityPath(home));
    expect((await stat(identityPath(home))).isDirectory()).toBe(true);
  });

  it.skipIf(process.getuid?.() === 0)("unreadable key file (mode 000) → IDENTITY_UNREADABLE", async () => {
    const home = freshHome();
    await loadOrCreateIdentity(home, nobleBackend);
    await chmod(identityPath(home), 0o000);
    await expect(loadOrCreateIdentity(home, nobleBackend)).rejects.toMatchObject({ code: "IDENTITY_UNREADABLE" });
    await chmod(identityPath(home), 0o600);
  });
});
