/**
 * Regression: Node 20's KeyObject.export({ format: "jwk" }) can deadlock the thread when a GC runs inside it, and
 * the native backend used it for every key pair (each handshake and relay challenge). A GC-heavy key-generation
 * loop hung within seconds that way; with DER export it completes. Run in a child process so a hang is a bounded
 * failure here, not a stuck test runner.
 */
import { expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../../..");

it("native key generation under GC pressure never hangs", () => {
  const script = `
    const { nativeBackend } = await import(${JSON.stringify(join(ROOT, "dist/protocol/crypto/native.js"))});
    let junk = [];
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < 6000) {
      nativeBackend.generateKeyPair();
      junk.push(new Array(50).fill(n++));
      if (junk.length > 1000) junk = [];
    }
    console.log("generated " + n);
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  expect(r.signal, "the key-generation loop hung (killed by the 20 s bound)").toBeNull();
  expect(r.stdout).toMatch(/generated \d{4,}/);
}, 30_000);
