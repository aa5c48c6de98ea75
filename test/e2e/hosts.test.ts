/**
 * Issue 16, the CLI as a device: a ticket from `paseo daemon pair` enrolls this machine (auto with --relay, or
 * `paseo hosts add`), the host is saved (hosts.json, 0600, in PASEO_CONFIG), later commands reach it with --host /
 * PASEO_HOST and without the link, a spent ticket is refused with a named error while the device keeps working, a
 * read-only device's run is FORBIDDEN (exit 1), and a revoked device is told to re-pair. Real relay, daemon and
 * CLI processes on 127.0.0.1; each test has its own config directory.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startProcess,
  startRelayProcess,
  type DaemonProc,
  type RelayProc,
} from "./harness.js";

let relay: RelayProc;
let daemon: DaemonProc;

beforeAll(async () => {
  relay = await startRelayProcess();
  daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
});
afterAll(killAll);

const freshConfig = () => mkdtempSync(join(tmpdir(), "paseo-hosts-test-"));

async function ticket(...args: string[]): Promise<string> {
  const r = await runCli(["daemon", "pair", "--json", "--no-qr", "--home", daemon.home, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).link as string;
}

async function devices(): Promise<{ id: string; sas: string; rights: string; state: string; label: string }[]> {
  const r = await runCli(["daemon", "devices", "--json", "--home", daemon.home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("the CLI enrolls itself with a ticket", () => {
  it("--relay <ticket> enrolls and saves the host; the link is then spent but the device works without it", async () => {
    const config = freshConfig();
    const env = { PASEO_CONFIG: config };
    const link = await ticket("--label", "laptop");
    const first = await runCli(["ls", "--relay", link], { env });
    expect(first.code, first.stderr).toBe(0);
    const said = /enrolled this device on laptop as ([a-z2-7]{16}) \(control\); compare code (\d{3}-\d{3})/.exec(
      first.stderr,
    );
    expect(said, first.stderr).not.toBeNull();
    const [, deviceId, sas] = said!;
    // The daemon shows the same code for that device.
    expect((await devices()).find((d) => d.id === deviceId)).toMatchObject({ sas, rights: "control", label: "laptop" });
    // hosts.json: 0600, holds the key; `paseo hosts --json` never shows it.
    const file = join(config, "hosts.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8")).hosts[0];
    expect(saved).toMatchObject({ name: "laptop", deviceId, sas });
    const listed = await runCli(["hosts", "--json"], { env });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: "laptop", deviceId })]);
    expect(listed.stdout).not.toContain(saved.deviceKeyB64);
    expect(first.stderr + first.stdout).not.toContain(saved.deviceKeyB64);

    // Same link again on this machine: the saved device is used (no second enrollment, nothing printed).
    const again = await runCli(["ls", "--relay", link], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/enrolled/);
    // --host and PASEO_HOST: no link at all.
    const byHost = await runCli(["info", "--host", "laptop", "--json"], { env });
    expect(byHost.code, byHost.stderr).toBe(0);
    expect(JSON.parse(byHost.stdout).serverId).toBe(saved.serverId);
    const byEnv = await runCli(["exec", "--", "echo", "hi"], { env: { ...env, PASEO_HOST: "laptop" } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stdout).toBe("hi\n");
    // Another machine (another config dir) with the spent link: a named error, one line, exit 1.
    const other = await runCli(["ls", "--relay", link], { env: { PASEO_CONFIG: freshConfig() } });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/already used.*\[OFFER_REVOKED\]|\[OFFER_USED\]/);
    const lines = other.stderr.trim().split("\n");
    expect(lines.filter((l) => !l.startsWith("paseo: warning: other users"))).toHaveLength(1);
  });

  it("hosts add / ls / rm; a read-only device is refused run (FORBIDDEN); a revoked one is told to re-pair", async () => {
    const env = { PASEO_CONFIG: freshConfig() };
    const add = await runCli(["hosts", "add", "tv", await ticket("--read-only", "--label", "living-room")], { env });
    expect(add.code, add.stderr).toBe(0);
    const id = /as ([a-z2-7]{16}) \(read-only\)/.exec(add.stderr)?.[1];
    expect(id, add.stderr).toBeDefined();
    const table = await runCli(["hosts"], { env });
    expect(table.stdout).toMatch(
      new RegExp(`^tv\\s+\\S+\\s+ws://${relay.endpoint.replace(/\./g, "\\.")}\\s+${id}\\s+read-only`, "m"),
    );
    expect((await runCli(["ls", "--host", "tv"], { env })).code).toBe(0);
    const run = await runCli(["run", "--host", "tv", "--", "true"], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /agents\.run is not allowed: device .* is read-only.*paseo daemon devices set .* --control.*\[FORBIDDEN\]/,
    );
    // The same daemon under a second name: refused, naming the first.
    const dup = await runCli(["hosts", "add", "tv2", await ticket()], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already saved as "tv".*\[HOST_EXISTS\]/);

    expect((await runCli(["daemon", "devices", "revoke", id!, "--home", daemon.home])).code).toBe(0);
    const revoked = await runCli(["ls", "--host", "tv"], { env });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/revoked.*paseo daemon pair.*paseo hosts add.*\[DEVICE_REVOKED\]/);

    const rm = await runCli(["hosts", "rm", "tv"], { env });
    expect(rm.code, rm.stderr).toBe(0);
    expect((await runCli(["hosts", "--json"], { env })).stdout.trim()).toBe("[]");
    const gone = await runCli(["ls", "--host", "tv"], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no saved host named "tv".*\[HOST_NOT_FOUND\]/);
  });
});

describe("revoking a device on the daemon", () => {
  it("ends its live `logs -f` at once with DEVICE_REVOKED; the audit log has the enrollment, the revoke and no secret", async () => {
    const env = { PASEO_CONFIG: freshConfig() };
    const link = await ticket("--label", "follower");
    const add = await runCli(["hosts", "add", "follower", link], { env });
    expect(add.code, add.stderr).toBe(0);
    const id = /as ([a-z2-7]{16})/.exec(add.stderr)![1]!;
    const ticker = await runCli(
      [
        "run",
        "--host",
        "follower",
        "--name",
        "ticker",
        "--",
        process.execPath,
        "-e",
        "setInterval(() => console.log('tick'), 50)",
      ],
      { env },
    );
    expect(ticker.code, ticker.stderr).toBe(0);
    const follower = startProcess(["logs", "-f", "ticker", "--host", "follower"], env);
    await follower.waitFor(/tick\ntick/);
    const t0 = performance.now();
    expect((await runCli(["daemon", "devices", "revoke", id, "--home", daemon.home])).code).toBe(0);
    const code = await follower.exited;
    const ms = performance.now() - t0;
    expect(code).not.toBe(0);
    expect(follower.stderr()).toMatch(/revoked.*\[DEVICE_REVOKED\]/);
    expect(ms).toBeLessThan(5000); // bounded wait, not a timing assertion: the watch makes it milliseconds
    await runCli(["stop", "ticker", "--home", daemon.home]);

    const audit = readFileSync(join(daemon.home, "audit.jsonl"), "utf8");
    const events = audit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; deviceId?: string; actor: { id: string | null } });
    expect(events.some((e) => e.event === "device.enrolled" && e.deviceId === id)).toBe(true);
    expect(events.some((e) => e.event === "device.revoked" && e.deviceId === id)).toBe(true);
    expect(events.some((e) => e.event === "request" && e.actor.id === id)).toBe(true);
    const hosts = readFileSync(join(env.PASEO_CONFIG, "hosts.json"), "utf8");
    const key = JSON.parse(hosts).hosts[0].deviceKeyB64 as string;
    const offer = JSON.parse(Buffer.from(link.split("#offer=")[1]!, "base64url").toString());
    for (const secret of [key, offer.secretB64, link]) expect(audit).not.toContain(secret);
  });
});

describe("fleet: --hosts across three daemons, one stopped", () => {
  it("ls and exec run on every host in parallel, report the stopped one in its group, and exit 1 unless all succeeded", async () => {
    const env = { PASEO_CONFIG: freshConfig() };
    const fleet = await Promise.all([0, 1, 2].map(() => startDaemonProcess({ relay: `ws://${relay.endpoint}` })));
    for (const [i, d] of fleet.entries()) {
      const pair = await runCli(["daemon", "pair", "--json", "--no-qr", "--home", d.home]);
      const add = await runCli(["hosts", "add", `node${i}`, JSON.parse(pair.stdout).link], { env });
      expect(add.code, add.stderr).toBe(0);
    }
    await fleet[2]!.stop();

    const ls = await runCli(["ls", "--hosts", "all"], { env });
    expect(ls.code).toBe(1);
    expect(ls.stdout).toMatch(/^== node0 \(0 agents\)\nno agents\n/m);
    expect(ls.stdout).toMatch(/^== node1 \(0 agents\)/m);
    expect(ls.stdout).toMatch(/^== node2 \(failed\)\npaseo: .*\[DAEMON_OFFLINE\]/m);
    const json = JSON.parse((await runCli(["ls", "--hosts", "node1,node2", "--json"], { env })).stdout);
    expect(json).toEqual([
      { host: "node1", ok: true, agents: [] },
      { host: "node2", ok: false, error: { code: "DAEMON_OFFLINE", message: expect.any(String) } },
    ]);

    const ok = await runCli(["exec", "--hosts", "node0,node1", "--", "echo", "hi"], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe("== node0 (exit 0)\nhi\n== node1 (exit 0)\nhi\n");
    const mixed = await runCli(["exec", "--hosts", "all", "--shell", "--", "exit 3"], { env });
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toContain("== node0 (exit 3)");
    expect(mixed.stderr).toMatch(/\[DAEMON_OFFLINE\]/);
    const unknown = await runCli(["ls", "--hosts", "node0,nope"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no saved host named "nope".*\[HOST_NOT_FOUND\]/);
  });
});
