/**
 * Issue 16, audit log and input kill switch, with real processes on 127.0.0.1: a relay, a daemon, the CLI, and a
 * DaemonClient in this process on the daemon's local offer (a live terminal attachment).
 *   - `daemon input off` → agents.input and terminal.input refused with INPUT_DISABLED (the live session stays
 *     connected), `daemon status` and ServerInfo.inputEnabled show it; `on` → input works again.
 *   - audit.jsonl records handshakes accepted/refused, run/send/stop/exec, lane takes, offer create/revoke,
 *     input off/on — and holds no offer secret, link or typed text; `daemon audit --json --device` filters;
 *     `daemon audit --follow` sees new entries, across a rotation, and exits 0 on SIGINT.
 *   - rotation at the size limit keeps one old file and loses no line (also a CLI line appended meanwhile);
 *     an unwritable audit file never stops the daemon and `daemon status` says so.
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DaemonClient } from "../../src/index.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import { AUDIT_FILE, AUDIT_OLD_FILE, AuditLog, appendAudit, type AuditLine } from "../../src/daemon/audit-log.js";
import { killAll, runCli, sleep, startDaemonProcess, startProcess, startRelayProcess, tmpHome } from "./harness.js";
import { killAllPtys, shellPty } from "./pty.js";

const clients: DaemonClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  killAllPtys();
  await killAll();
});

function auditLines(home: string, file = AUDIT_FILE): AuditLine[] {
  return readFileSync(join(home, file), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditLine);
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function codeOf(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
    return {};
  } catch (err) {
    return err as { code?: string; message?: string };
  }
}

describe("input kill switch", () => {
  it("refuses send and terminal input while off, without disconnecting; status and ServerInfo show it", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const home = daemon.home;
    const offer = (await readLocalOffer(home))!;
    const client = new DaemonClient({ offer, reconnect: false });
    clients.push(client);
    expect((await client.connect()).inputEnabled).toBe(true);

    const sh = await client.runAgent({ argv: ["sh"], tty: true, name: "sh" });
    const cat = await client.runAgent({ argv: ["cat"], name: "cat" });
    const term = await client.attach(sh.id);
    let text = "";
    term.onData((d) => (text += new TextDecoder().decode(d)));
    await term.write("echo A-$((40+2))\r");
    await until("terminal output", () => /A-42/.test(text));

    const off = await runCli(["daemon", "input", "off", "--home", home]);
    expect(off.code, off.stderr).toBe(0);
    expect(statSync(join(home, "input.json")).mode & 0o777).toBe(0o600);

    const refused = await codeOf(term.write("echo B-$((1+1))\r"));
    expect(refused.code).toBe("INPUT_DISABLED");
    expect(refused.message).toMatch(/paseo daemon input on/);
    expect((await codeOf(client.sendInput(cat.id, "x\n"))).code).toBe("INPUT_DISABLED");
    const send = await runCli(["send", cat.id, "typed-while-off", "--relay", daemon.link!]);
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/INPUT_DISABLED/);
    expect(send.stderr).toMatch(/paseo daemon input on/);
    await sleep(300);
    expect(text).not.toMatch(/B-2/); // nothing reached the agent
    expect(client.state).toBe("connected"); // refused, not disconnected
    expect((await client.serverInfo()).inputEnabled).toBe(false);
    const fresh = new DaemonClient({ offer, reconnect: false });
    clients.push(fresh);
    expect((await fresh.connect()).inputEnabled).toBe(false); // in the welcome too

    const status = await runCli(["daemon", "status", "--json", "--home", home]);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, inputEnabled: false });
    const human = await runCli(["daemon", "status", "--home", home]);
    expect(human.stdout).toMatch(/^input\s+OFF since .*paseo daemon input on/m);

    const on = await runCli(["daemon", "input", "on", "--home", home]);
    expect(on.code, on.stderr).toBe(0);
    await term.write("echo C-$((2+3))\r");
    await until("input after on", () => /C-5/.test(text));
    expect(await client.sendInput(cat.id, "y\n")).toBe(2);
    expect((await client.serverInfo()).inputEnabled).toBe(true);

    const lines = auditLines(home);
    const events = lines.map((l) => l.event);
    expect(events).toContain("input.off");
    expect(events).toContain("input.on");
    expect(events.indexOf("input.off")).toBeLessThan(events.indexOf("input.on"));
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "request", method: "terminal.input", ok: false, error: "INPUT_DISABLED" }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "request", method: "agents.input", agentId: cat.id, ok: true, inputBytes: 2 }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "lane.take", agentId: sh.id, actor: { kind: "local", id: null } }),
    );
    expect(readFileSync(join(home, AUDIT_FILE), "utf8")).not.toMatch(/typed-while-off|A-\$|echo/);
    await client.stopAgent(sh.id, { graceMs: 200 });
    await client.stopAgent(cat.id, { graceMs: 200 });
  });
});

describe("paseo attach with input off", () => {
  it("prints one notice line, stays attached, and says so once when a key is refused", async () => {
    const daemon = await startDaemonProcess({ relay: "none" });
    const run = await runCli(["run", "--home", daemon.home, "--tty", "--name", "sh", "--", "sh"]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    try {
      expect((await runCli(["daemon", "input", "off", "--home", daemon.home])).code).toBe(0);
      const t = shellPty({ PASEO_HOME: daemon.home });
      await t.waitFor(/\$ $/);
      t.write(`$PASEO attach ${id}; echo "attach-exit=$?"\r`);
      await t.waitFor(/input is turned off on this daemon; you can watch\. Turn it on there: paseo daemon input on/);
      await sleep(500);
      t.write("echo typed\r");
      await t.waitFor(/\[INPUT_DISABLED\]/);
      t.write("x");
      await sleep(300);
      expect(t.text.match(/\[INPUT_DISABLED\]/g)).toHaveLength(1); // once, not per key
      t.write("\x1d"); // Ctrl-]: detach
      await t.waitFor(/attach-exit=0/);
    } finally {
      await runCli(["stop", id, "--grace", "200", "--home", daemon.home]);
    }
  });
});

describe("audit log", () => {
  it("records handshakes, requests, offers; never a secret; --device filters; --follow sees new lines", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const home = daemon.home;
    const link = daemon.link!;
    const offerId = (JSON.parse(readFileSync(join(home, "offers.json"), "utf8")) as { offers: { id: string }[] })
      .offers[0]!.id;

    const run = await runCli(["run", "--relay", link, "--name", "c", "--", "cat"]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    expect((await runCli(["send", id, "very-private-text", "--relay", link])).code).toBe(0);
    expect((await runCli(["stop", id, "--relay", link])).code).toBe(0);
    expect((await runCli(["exec", "--relay", link, "--", "true", "--token=hunter2"])).code).toBe(0);
    expect((await runCli(["exec", "--shell", "--relay", link, "--", "true --password=swordfish"])).code).toBe(0);

    // A second offer, revoked; then used: refused with OFFER_REVOKED.
    const pair = await runCli(["daemon", "pair", "--json", "--home", home, "--no-qr", "--label", "spare"]);
    expect(pair.code, pair.stderr).toBe(0);
    const spare = JSON.parse(pair.stdout) as { link: string; offerId: string };
    expect((await runCli(["daemon", "offers", "revoke", spare.offerId, "--home", home])).code).toBe(0);
    const denied = await runCli(["ls", "--relay", spare.link]);
    expect(denied.code).not.toBe(0);

    const lines = auditLines(home);
    const actor = { kind: "offer", id: offerId };
    expect(lines).toContainEqual(expect.objectContaining({ event: "handshake.accepted", actor }));
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "request", method: "agents.run", agentId: id, ok: true, program: "cat", actor }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "request", method: "agents.input", agentId: id, inputBytes: 18, actor }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ event: "request", method: "agents.stop", agentId: id }));
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "request", method: "exec", ok: true, program: "true", argCount: 1 }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ event: "offer.created", offerId: spare.offerId }));
    expect(lines).toContainEqual(expect.objectContaining({ event: "offer.revoked", offerId: spare.offerId }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: "handshake.refused",
        actor: { kind: "offer", id: spare.offerId },
        reason: "OFFER_REVOKED",
      }),
    );
    for (const l of lines) expect(Date.parse(l.at)).not.toBeNaN();

    // No secret: not the links, not any offer's secret, not the typed text, not argv beyond the program.
    const file = readFileSync(join(home, AUDIT_FILE), "utf8");
    const secrets = (
      JSON.parse(readFileSync(join(home, "offers.json"), "utf8")) as { offers: { secretB64: string }[] }
    ).offers.map((o) => o.secretB64);
    for (const s of [
      ...secrets,
      link,
      spare.link,
      link.split("#offer=")[1]!,
      "very-private-text",
      "hunter2",
      "swordfish",
    ])
      expect(file).not.toContain(s);
    expect(statSync(join(home, AUDIT_FILE)).mode & 0o777).toBe(0o600);

    // --json --device: only that offer's lines.
    const filtered = await runCli(["daemon", "audit", "--json", "--device", spare.offerId, "--home", home]);
    expect(filtered.code, filtered.stderr).toBe(0);
    const mine = filtered.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditLine);
    expect(mine.length).toBeGreaterThan(0);
    for (const l of mine) expect(l.actor.id).toBe(spare.offerId);
    // The human table.
    const table = await runCli(["daemon", "audit", "--since", "1h", "--home", home]);
    expect(table.stdout).toMatch(/^TIME\s+ACTOR\s+EVENT\s+DETAILS/);
    expect(table.stdout).toMatch(/handshake\.refused\s+reason=OFFER_REVOKED/);

    // --follow sees a line written after it started, and exits 0 on SIGINT.
    const follow = startProcess(["daemon", "audit", "--follow", "--json", "--home", home]);
    await follow.waitFor(/"event":"handshake\.refused"/);
    expect((await runCli(["daemon", "input", "off", "--home", home])).code).toBe(0);
    await follow.waitFor(/"event":"input\.off"/);
    follow.proc.kill("SIGINT");
    expect(await follow.exited).toBe(0);
    expect((await runCli(["daemon", "input", "on", "--home", home])).code).toBe(0);
  });

  it("rotates at the size limit keeping one old file, loses no line, and --follow reads across it", async () => {
    const home = tmpHome();
    const follow = startProcess(["daemon", "audit", "--follow", "--json", "--home", home]);
    await sleep(400); // the follower is polling (audit.jsonl does not exist yet)
    const log = AuditLog.open(home, { rotate: true, rotateBytes: 4000 });
    const total = 120;
    // Batches of 10 lines (~1.1 KB) between the follower's polls: at most one rotation between two polls, as in
    // real use (rotation every 10 MiB). A CLI-style appender writes between them.
    for (let i = 0; i < total; i++) {
      log.record({ event: "request", actor: { kind: "local", id: null }, method: "agents.stop", n: i });
      if (i === 50) appendAudit(home, { event: "input.off" }); // another process's line
      if (i % 10 === 9) await sleep(350);
    }
    log.close();
    expect(statSync(join(home, AUDIT_FILE)).size).toBeLessThanOrEqual(4000);
    expect(statSync(join(home, AUDIT_OLD_FILE)).size).toBeLessThanOrEqual(4000);
    const kept = [...auditLines(home, AUDIT_OLD_FILE), ...auditLines(home)];
    const ns = kept.filter((l) => l.event === "request").map((l) => l.n as number);
    expect(ns.length).toBeGreaterThan(0);
    expect(ns).toEqual(ns.map((_, i) => ns[0]! + i)); // contiguous: the newest lines, none missing
    expect(ns.at(-1)).toBe(total - 1);
    // The follower saw every line, across every rotation (it polls; the rotations happened within one poll).
    await follow.waitFor(new RegExp(`"n":${total - 1}\\b`));
    const seenLines = follow
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditLine);
    const seen = seenLines.filter((l) => l.event === "request").map((l) => l.n as number);
    expect(seen).toEqual([...Array(total).keys()]); // every line once, in order, across 3 rotations
    expect(seenLines.filter((l) => l.event === "input.off")).toHaveLength(1);
    follow.proc.kill("SIGINT");
    expect(await follow.exited).toBe(0);
  });

  it("an unwritable audit log never stops the daemon; status says so", async () => {
    const home = tmpHome();
    mkdirSync(join(home, AUDIT_FILE)); // every open fails (EISDIR), like a full disk would fail every write
    const daemon = await startDaemonProcess({ home, relay: "none" });
    const ls = await runCli(["ls", "--home", home]);
    expect(ls.code, ls.stderr).toBe(0);
    expect((await runCli(["ls", "--home", home])).code).toBe(0); // still serving
    const status = await until("status with the failure", () => {
      const s = JSON.parse(readFileSync(join(home, "daemon-status.json"), "utf8")) as { audit?: { failure: unknown } };
      return s.audit?.failure ? s : undefined;
    });
    expect(status.audit!.failure).toBeTruthy();
    const human = await runCli(["daemon", "status", "--home", home]);
    expect(human.stdout).toMatch(/^audit\s+FAILING since /m);
    expect(daemon.stderr().match(/cannot write the audit log/g)?.length).toBe(1); // logged once
  });
});
