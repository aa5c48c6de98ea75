/**
 * `paseo daemon start --relay-host`: the embedded relay on the LAN. Real daemon and CLI processes.
 *
 * The relay must be reached through a non-loopback address of this machine to prove it listens beyond loopback.
 * Test machines usually have one (a container's eth0); on a machine with none, the LAN tests use the only address
 * there is (127.0.0.1 advertised with --relay-advertise) and still check the link, status and `ls` paths.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, runCli, startDaemonProcess, tmpHome } from "./harness.js";

afterEach(killAll);

/** The first non-internal IPv4 address and its interface, as the daemon picks it for 0.0.0.0. */
function lanAddress(): { name: string; address: string } | undefined {
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    const a = list?.find((i) => i.family === "IPv4" && !i.internal);
    if (a) return { name, address: a.address };
  }
  return undefined;
}

function offerRelay(link: string): string {
  const b64 = link.split("#offer=")[1]!;
  return (JSON.parse(Buffer.from(b64, "base64url").toString("utf8")) as { relay: { endpoint: string } }).relay.endpoint;
}

async function health(host: string, port: number): Promise<number> {
  const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(5000) });
  return res.status;
}

const lan = lanAddress();

describe("daemon start --relay-host", () => {
  it("0.0.0.0: listens on every interface, links and daemon status carry the LAN address, ls works through it", async () => {
    const advertiseArgs = lan ? [] : ["--relay-advertise", "127.0.0.1"];
    const d = await startDaemonProcess({ args: ["--relay-host", "0.0.0.0", "--relay-port", "0", ...advertiseArgs] });
    const host = lan?.address ?? "127.0.0.1";
    expect(d.link).toBeDefined();
    const url = new URL(d.link!);
    expect(url.hostname).toBe(host); // the page a phone opens is the embedded relay's, at the LAN address
    const port = Number(url.port);
    expect(offerRelay(d.link!)).toBe(`${host}:${port}`);
    expect(d.stdout()).toMatch(/reachable on your network/);
    // Reachable through the non-loopback address, and on loopback (where the daemon's own link is).
    expect(await health(host, port)).toBe(200);
    expect(await health("127.0.0.1", port)).toBe(200);

    const linkFile = join(d.home, "lan-link.txt");
    writeFileSync(linkFile, `${d.link}\n`, { mode: 0o600 });
    const ls = await runCli(["ls", "--relay", linkFile]);
    expect(ls.stderr).toBe("");
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/no agents/);

    const status = await runCli(["daemon", "status", "--home", d.home]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`links use ${host}:${port}`);
    expect(status.stdout).toMatch(/relay\s+127\.0\.0\.1:\d+ connected/); // the daemon's own link stays on loopback
    const json = JSON.parse((await runCli(["daemon", "status", "--home", d.home, "--json"])).stdout);
    expect(json.status.embeddedRelay.advertised).toEqual({ endpoint: `${host}:${port}`, tls: false });
    expect(json.status.embeddedRelay.listen).toBe(`0.0.0.0:${port}`);

    // Saved like --relay-port; `daemon pair` while it runs points at the same LAN relay.
    expect(JSON.parse(readFileSync(join(d.home, "config.json"), "utf8")).embeddedRelayHost).toBe("0.0.0.0");
    const pair = await runCli(["daemon", "pair", "--home", d.home, "--json", "--no-qr"]);
    expect(pair.code).toBe(0);
    expect(new URL(JSON.parse(pair.stdout).link).host).toBe(`${host}:${port}`);
  }, 30_000);

  it.skipIf(!lan)(
    "an interface name: binds its address and loopback only (the daemon's link stays loopback)",
    async () => {
      const d = await startDaemonProcess({ args: ["--relay-host", lan!.name, "--relay-port", "0"] });
      const url = new URL(d.link!);
      expect(url.hostname).toBe(lan!.address);
      const port = Number(url.port);
      expect(await health(lan!.address, port)).toBe(200);
      expect(await health("127.0.0.1", port)).toBe(200);
      const status = await runCli(["daemon", "status", "--home", d.home]);
      expect(status.stdout).toContain(`listening on ${lan!.address}:${port}`);
      expect(status.stdout).toMatch(/relay\s+127\.0\.0\.1:\d+ connected/);
    },
    30_000,
  );

  it("an unknown interface is a named error that says what to use, and nothing is saved", async () => {
    const home = tmpHome();
    const r = await runCli(["daemon", "start", "--home", home, "--relay-host", "nosuchif9", "--relay-port", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("RELAY_HOST_UNKNOWN");
    expect(r.stderr).toContain("no such network interface");
    expect(r.stderr).toMatch(/interfaces: .*lo/);
    expect(r.stderr).toContain("0.0.0.0");
    expect(existsSync(join(home, "config.json"))).toBe(false);
    expect(existsSync(join(home, "daemon.pid"))).toBe(false);
  }, 30_000);
});
