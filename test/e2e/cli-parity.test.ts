/** Issue: DaemonClient & CLI — one code path from link to answer (real relay, daemon and CLI processes). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startRelayProcess,
  tmpHome,
  type DaemonProc,
  type RelayProc,
} from "./harness.js";

let relay: RelayProc;
let daemon: DaemonProc;

beforeAll(async () => {
  relay = await startRelayProcess();
  daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  const r = await runCli([
    "run",
    "--home",
    daemon.home,
    "--name",
    "sleeper",
    "--",
    process.execPath,
    "-e",
    "setTimeout(()=>{}, 60000)",
  ]);
  expect(r.code).toBe(0);
});
afterAll(killAll);

describe("ls parity: local, --relay link, --relay file, PASEO_RELAY_OFFER", () => {
  it("returns the same agents on every path", async () => {
    const local = await runCli(["ls", "--json", "-a", "--home", daemon.home]);
    expect(local.code, local.stderr).toBe(0);
    const agents = JSON.parse(local.stdout);
    expect(agents).toHaveLength(1);
    expect(agents[0].name).toBe("sleeper");

    const viaLink = await runCli(["ls", "--json", "-a", "--relay", daemon.link!]);
    expect(viaLink.code, viaLink.stderr).toBe(0);
    expect(JSON.parse(viaLink.stdout)).toEqual(agents);

    const file = join(tmpHome(), "offer.txt");
    writeFileSync(file, daemon.link!, { mode: 0o600 });
    const viaFile = await runCli(["ls", "--json", "-a", "--relay", file]);
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toEqual(agents);

    const viaEnv = await runCli(["ls", "--json", "-a"], {
      env: { PASEO_RELAY_OFFER: daemon.link!, PASEO_HOME: tmpHome() },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual(agents);
  });

  it("info shows the daemon's identity over the relay", async () => {
    const r = await runCli(["info", "--json", "--relay", daemon.link!]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.serverId).toMatch(/^[a-z2-7]{26}$/);
    expect(daemon.stdout()).toContain(info.fingerprint);
    expect(info.metrics.memTotal).toBeGreaterThan(0);
  });
});
