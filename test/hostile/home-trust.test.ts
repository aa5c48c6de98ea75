/**
 * Issue 15 item 5: a PASEO_HOME another user can write (or owns) is refused, never silently followed. The attack:
 * with `--home` on a 0777 directory, another user swapped local-offer.json for their own daemon's, and root's
 * `paseo exec --home` ran on the attacker's daemon. Tests run as root here, so "another user" is uid 65534 (root
 * can chown to it) and "others can write" is the mode bits.
 */
import { chmodSync, chownSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.js";
import { runCli } from "../e2e/harness.js";
import { backend, memoryLogger, outcome, teardown, tempHome, track } from "./env.js";

const OTHER_UID = 65534;
let attacker: Daemon;

beforeAll(async () => {
  // The attacker's daemon (here in this process, under a home of its own) and the victim's home it is planted in.
  attacker = track(
    await startDaemon({ home: tempHome(), relay: null, backend, log: memoryLogger().log, pairOnStart: false }),
    (d) => d.close(),
  );
});
afterAll(teardown);

/** A victim home holding the attacker's local offer and pid (a live pid: this process). */
function plantedHome(mode: number): string {
  const home = join(tempHome(), "home");
  mkdirSync(home, { mode: 0o700 });
  for (const f of ["local-offer.json", "daemon.pid"]) copyFileSync(join(attacker.home, f), join(home, f));
  chmodSync(home, mode);
  return home;
}

const exec = (home: string) => runCli(["exec", "--home", home, "--", "echo", "pwned"], { timeoutMs: 15_000 });

describe("an unsafe home is refused with a named error that says the fix", () => {
  it("control: the same planted files in a 0700 home of ours are followed (what the checks must stop)", async () => {
    const r = await exec(plantedHome(0o700));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("pwned");
  });

  it("`paseo exec --home` on a 0777 directory: HOME_UNSAFE, `chmod 700`, nothing runs", async () => {
    const home = plantedHome(0o777);
    const r = await exec(home);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("pwned");
    expect(r.stderr).toContain("HOME_UNSAFE");
    expect(r.stderr).toContain(`chmod 700 ${home}`);
  });

  it("a home owned by another user: HOME_UNSAFE, not yours", async () => {
    const home = plantedHome(0o700);
    chownSync(home, OTHER_UID, OTHER_UID);
    const r = await exec(home);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("pwned");
    expect(r.stderr).toContain("HOME_UNSAFE");
    expect(r.stderr).toMatch(/owned by uid 65534, not by you/);
  });

  it("a home inside a world-writable, non-sticky directory: HOME_UNSAFE (it could be renamed away)", async () => {
    const parent = tempHome();
    chmodSync(parent, 0o777);
    const home = join(parent, "home");
    mkdirSync(home, { mode: 0o700 });
    const r = await runCli(["daemon", "offers", "--home", home]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("HOME_UNSAFE");
    expect(r.stderr).toContain(`chmod o-w ${parent}`);
  });

  it("local-offer.json owned by another user, or writable by others: FILE_UNSAFE, nothing runs", async () => {
    const foreign = plantedHome(0o700);
    chownSync(join(foreign, "local-offer.json"), OTHER_UID, OTHER_UID);
    const r1 = await exec(foreign);
    expect(r1.code).not.toBe(0);
    expect(r1.stdout).not.toContain("pwned");
    expect(r1.stderr).toContain("FILE_UNSAFE");
    expect(r1.stderr).toMatch(/local-offer\.json is owned by uid 65534/);

    const writable = plantedHome(0o700);
    chmodSync(join(writable, "local-offer.json"), 0o666);
    const r2 = await exec(writable);
    expect(r2.code).not.toBe(0);
    expect(r2.stdout).not.toContain("pwned");
    expect(r2.stderr).toContain("FILE_UNSAFE");
  });

  it("the daemon refuses to start on a 0777 home, and on a home whose offers.json another user owns", async () => {
    const open = join(tempHome(), "h");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await outcome(
      startDaemon({ home: open, relay: null, backend, log: memoryLogger().log, pairOnStart: false }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("HOME_UNSAFE");

    const planted = join(tempHome(), "h");
    mkdirSync(planted, { mode: 0o700 });
    writeFileSync(join(planted, "offers.json"), JSON.stringify({ v: 1, offers: [] }), { mode: 0o600 });
    chownSync(join(planted, "offers.json"), OTHER_UID, OTHER_UID);
    const r2 = await runCli(["daemon", "offers", "--home", planted]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain("FILE_UNSAFE");
  });
});
