/**
 * `paseo mcp --host a --host b` (issues 16 + 18): the server serves saved hosts by name, each as its own device; a
 * read-only device's server lists only the read tools; `paseo mcp config --host` bakes the name in (never a key or a
 * link) and refuses an unknown host. Real relay, two daemons, the SDK's own client over stdio.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli, startDaemonProcess, startRelayProcess, type DaemonProc } from "../e2e/harness.js";
import { closeAllMcp, startMcp } from "./helpers.js";

const config = mkdtempSync(join(tmpdir(), "paseo-mcp-hosts-"));
const env = { PASEO_CONFIG: config };
let daemons: DaemonProc[];

beforeAll(async () => {
  const relay = await startRelayProcess();
  daemons = await Promise.all([0, 1].map(() => startDaemonProcess({ relay: `ws://${relay.endpoint}` })));
  for (const [i, d] of daemons.entries()) {
    const pair = await runCli([
      "daemon",
      "pair",
      "--json",
      "--no-qr",
      "--home",
      d.home,
      ...(i === 1 ? ["--read-only"] : []),
    ]);
    const add = await runCli(["hosts", "add", i === 0 ? "build" : "watch", JSON.parse(pair.stdout).link], { env });
    expect(add.code, add.stderr).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  await closeAllMcp();
  await killAll();
});

describe("paseo mcp --host", () => {
  it("serves each saved host by name as its device; exec on one, hosts_list shows both with their rights", async () => {
    const mcp = await startMcp(["--host", "build", "--host", "watch"], env);
    const hosts = await mcp.call("hosts_list");
    expect(hosts.data.hosts).toEqual([
      expect.objectContaining({ name: "build", kind: "host", rights: "control", reachable: true }),
      expect.objectContaining({ name: "watch", kind: "host", rights: "read-only", reachable: true }),
    ]);
    const run = await mcp.call("exec", { host: "build", argv: ["echo", "from build"] });
    expect(run.isError, run.text).toBe(false);
    expect(run.data).toMatchObject({ exitCode: 0, stdout: "from build\n" });
    // The read-only device's daemon refuses a write with FORBIDDEN, passed on as a tool error with its next step.
    const refused = await mcp.call("exec", { host: "watch", argv: ["true"] });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/FORBIDDEN/);
    expect(refused.text).toMatch(/paseo daemon devices set/);
    const keys = JSON.parse(readFileSync(join(config, "hosts.json"), "utf8")).hosts.map(
      (h: { deviceKeyB64: string }) => h.deviceKeyB64,
    );
    for (const k of keys) {
      expect(mcp.replies.join("\n")).not.toContain(k);
      expect(mcp.stderr()).not.toContain(k);
    }
  });

  it("a server whose only host is a read-only device lists only the read tools", async () => {
    const mcp = await startMcp(["--host", "watch"], env);
    const names = (await mcp.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["agent_output", "agents_list", "host_info", "hosts_list", "terminal_screen"].sort());
  });

  it("mcp config --host bakes the host name in; an unknown host is refused", async () => {
    const ok = await runCli(["mcp", "config", "--client", "claude-code", "--host", "build"], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("mcp --host build");
    expect(ok.stdout).not.toMatch(/offer|deviceKey/);
    const bad = await runCli(["mcp", "config", "--client", "cursor", "--host", "nope"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no saved host named "nope".*\[HOST_NOT_FOUND\]/);
  });
});
