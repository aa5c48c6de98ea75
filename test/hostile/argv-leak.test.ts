/**
 * Attack (issue 15 item 4): while `paseo logs -f --relay "<link>"` runs, another local user reads the link from
 * /proc/<pid>/cmdline. Real relay, daemon and CLI processes on 127.0.0.1; the follower's cmdline is read the way any
 * other user would read it. Also: the one-line warning appears exactly when this machine is multi-user (as
 * argv-scrub.ts defines it), and the multi-user rule itself on fixed machine descriptions.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { killAll, runCli, startDaemonProcess, startProcess, startRelayProcess, tmpHome } from "../e2e/harness.js";
import {
  argvWarning,
  cmdlineHoldsOffer,
  findOfferArgs,
  isMultiUser,
  machineFacts,
  type MachineFacts,
} from "../../src/cli/argv-scrub.js";
import { parseOffer } from "../../src/protocol/offer.js";

afterAll(killAll);

const linux = process.platform === "linux";

describe.runIf(linux)("the pairing link does not stay in the CLI's process arguments", () => {
  it("logs -f --relay <link>: /proc/<pid>/cmdline holds no link, offer or secret; the warning follows the machine", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const link = daemon.link!;
    const offer = parseOffer(link);
    const file = join(tmpHome(), "offer.json");
    writeFileSync(file, link, { mode: 0o600 });
    const run = await runCli([
      "run",
      "--relay",
      file,
      "--name",
      "ticker",
      "--",
      "sh",
      "-c",
      "while :; do echo tick; sleep 0.2; done",
    ]);
    expect(run.code, run.stderr).toBe(0);

    const forms = [
      ["logs", "-f", "ticker", "--relay", link],
      ["logs", "-f", "ticker", `--relay=${link}`],
    ];
    for (const args of forms) {
      const follow = startProcess(args);
      await follow.waitFor(/tick/);
      const cmdline = readFileSync(`/proc/${follow.proc.pid}/cmdline`, "latin1");
      const fragment = link.slice(link.indexOf("#offer=") + 7);
      expect(cmdline.includes(link)).toBe(false);
      expect(cmdlineHoldsOffer(cmdline, [fragment, offer.secretB64])).toBe(false);
      expect(cmdline).toContain("<offer>"); // the command stays recognisable in ps
      expect(cmdline).toContain("logs -f ticker");
      const warned = follow
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("paseo: warning:"));
      const multiUser = isMultiUser(machineFacts()!);
      expect(warned.length).toBe(multiUser ? 1 : 0);
      if (multiUser) expect(warned[0]).toMatch(/--relay <file>.*PASEO_RELAY_OFFER/);
      expect(follow.stderr()).not.toContain(fragment);
      await follow.stop();
    }

    // The safe forms warn about nothing and touch nothing.
    const viaFile = startProcess(["logs", "-f", "ticker", "--relay", file]);
    await viaFile.waitFor(/tick/);
    expect(viaFile.stderr()).not.toMatch(/warning/);
    expect(readFileSync(`/proc/${viaFile.proc.pid}/cmdline`, "latin1")).toContain(file);
    await viaFile.stop();
    const stop = await runCli(["stop", "ticker", "--relay", file]);
    expect(stop.code, stop.stderr).toBe(0);
  }, 60_000);
});

describe("which arguments are offers, and what counts as a multi-user machine", () => {
  it("finds links, --opt=link, JSON and bare base64url offers; not paths or agent commands", () => {
    const b64 = "A".repeat(300);
    const argv = [
      "node",
      "main.js",
      "logs",
      "-f",
      "x",
      "--relay",
      "https://r.example/#offer=abc",
      `--relay=https://r/#offer=${b64}`,
      b64,
      "/home/me/offer.json",
      "--",
      "echo",
      "hi",
    ];
    expect(findOfferArgs(argv)).toEqual([6, 7, 8]);
    expect(findOfferArgs(["node", "main.js", "exec", "--", "sh", "-c", "{ echo hi; }", b64])).toEqual([]);
  });

  it("the warning: always when the offer could not be hidden; when hidden, only on a multi-user machine; never the offer", () => {
    const single = { mountinfo: "", passwd: "root:x:0:0::/root:/bin/bash\n", processUids: [0], uid: 0 };
    const multi = { ...single, passwd: `${single.passwd}bob:x:1001:1001::/home/bob:/bin/bash\n` };
    expect(argvWarning({ state: "clean", offerArgs: [] }, multi)).toBeUndefined();
    expect(argvWarning({ state: "scrubbed", offerArgs: [3] }, single)).toBeUndefined();
    expect(argvWarning({ state: "scrubbed", offerArgs: [3] }, multi)).toMatch(
      /^paseo: warning: .*--relay <file>.*PASEO_RELAY_OFFER/,
    );
    expect(argvWarning({ state: "failed", offerArgs: [3] }, single)).toMatch(/could NOT be hidden/);
    expect(argvWarning({ state: "unverified", offerArgs: [3] }, undefined)).toMatch(/may be visible/);
    expect(argvWarning({ state: "unverified", offerArgs: [3] }, single)).toMatch(/may be visible/);
    for (const state of ["scrubbed", "failed", "unverified"] as const)
      expect(argvWarning({ state, offerArgs: [3] }, multi)!.split("\n")).toHaveLength(1);
  });

  const base: MachineFacts = {
    mountinfo: "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n",
    passwd:
      "root:x:0:0:root:/root:/bin/bash\nme:x:1000:1000::/home/me:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
    processUids: [0, 1000],
    uid: 1000,
  };
  it("a laptop with only root and me, nothing else running: single-user", () => {
    expect(isMultiUser(base)).toBe(false);
  });
  it("another account with a login shell: multi-user", () => {
    expect(isMultiUser({ ...base, passwd: `${base.passwd}bob:x:1001:1001::/home/bob:/bin/zsh\n` })).toBe(true);
  });
  it("a service account's process is visible (e.g. www-data): multi-user", () => {
    expect(isMultiUser({ ...base, processUids: [0, 1000, 33] })).toBe(true);
  });
  it("/proc mounted with hidepid: nobody else can read our arguments", () => {
    const hidden = {
      ...base,
      mountinfo: base.mountinfo.replace(/rw\n$/, "rw,hidepid=invisible\n"),
      processUids: [0, 1000, 33],
    };
    expect(isMultiUser(hidden)).toBe(false);
    expect(isMultiUser({ ...hidden, mountinfo: base.mountinfo.replace(/rw\n$/, "rw,hidepid=2\n") })).toBe(false);
  });
});
