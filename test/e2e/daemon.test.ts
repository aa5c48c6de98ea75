/** Issue: the daemon — real daemon process against a real relay process on 127.0.0.1. */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { DaemonClient } from "../../src/index.js";
import { killAll, runCli, sleep, startDaemonProcess, startRelayProcess } from "./harness.js";

afterAll(killAll);
const clients: DaemonClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
function client(link: string, reconnect = false): DaemonClient {
  const c = new DaemonClient({
    offer: link,
    reconnect: reconnect ? { minMs: 100, maxMs: 500 } : false,
    requestTimeoutMs: 10_000,
  });
  clients.push(c);
  return c;
}

/** A child that prints `n` numbered lines, 2 ms apart, then exits 0. */
const printer = (n: number) => [
  process.execPath,
  "-e",
  `let i=0;const t=setInterval(()=>{console.log("line "+(++i));if(i>=${n}){clearInterval(t)}},2)`,
];
const expected = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join("");
const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");

describe("daemon process with a relay process", () => {
  it("runs the agent lifecycle: output, stdin, exit codes, stop", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const c = client(daemon.link!);
    const echo = await c.runAgent({
      argv: [
        process.execPath,
        "-e",
        "process.stdin.on('data',d=>{process.stdout.write(String(d).toUpperCase()); if(String(d).includes('bye')) process.exit(7)})",
      ],
      name: "echo",
    });
    expect(echo.state).toBe("running");
    await c.sendInput(echo.id, "hello\n");
    await c.sendInput(echo.id, "bye\n");
    let out = "";
    for await (const chunk of c.logs(echo.id, { follow: true })) out += new TextDecoder().decode(chunk.data);
    expect(out).toBe("HELLO\nBYE\n");
    const done = await c.getAgent(echo.id);
    expect(done).toMatchObject({ state: "exited", exitCode: 7 });

    const stubborn = await c.runAgent({
      argv: [process.execPath, "-e", "process.on('SIGTERM',()=>{}); console.log('ready'); setInterval(()=>{},1000)"],
      name: "stubborn",
    });
    for await (const _ of c.logs(stubborn.id, { follow: true })) break; // its SIGTERM handler is installed
    const stopped = await c.stopAgent(stubborn.id, { graceMs: 300 });
    expect(stopped).toMatchObject({ state: "killed", signal: "SIGKILL" });
    const errs = await c.runAgent({ argv: [process.execPath, "-e", "console.error('oops'); process.exit(3)"] });
    const chunks = [];
    for await (const chunk of c.logs(errs.id, { follow: true })) chunks.push(chunk);
    expect(chunks.map((x) => x.stream)).toEqual(["stderr"]);
    expect((await c.getAgent(errs.id)).exitCode).toBe(3);
    const r = await c.exec([process.execPath, "-e", "process.stdout.write('x'.repeat(10)); process.exit(2)"], {
      timeoutMs: 5000,
    });
    expect(r.exitCode).toBe(2);
    expect(new TextDecoder().decode(r.stdout)).toBe("xxxxxxxxxx");
  });

  it("follows logs across a client disconnect and resumes with no byte lost or repeated", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const c = client(daemon.link!);
    const agent = await c.runAgent({ argv: printer(800), name: "printer" });
    let received = "";
    let lastSeq = 0;
    for await (const chunk of c.logs(agent.id, { follow: true })) {
      received += new TextDecoder().decode(chunk.data);
      lastSeq = chunk.seq;
      if (received.length > 3000) break; // disconnect mid-stream
    }
    c.close();
    const c2 = client(daemon.link!);
    for await (const chunk of c2.logs(agent.id, { follow: true, since: lastSeq + 1 }))
      received += new TextDecoder().decode(chunk.data);
    expect(sha(received)).toBe(sha(expected(800)));
  });

  it("reconnects by itself after a relay restart, and status --json shows the relay path", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}`, args: ["--log-level", "debug"] });
    expect((await client(daemon.link!).listAgents()).length).toBe(0);
    let status = JSON.parse((await runCli(["daemon", "status", "--json", "--home", daemon.home])).stdout);
    expect(status.running).toBe(true);
    expect(status.status.relay.state).toBe("connected");

    await relay.kill9();
    await sleep(300);
    status = JSON.parse((await runCli(["daemon", "status", "--json", "--home", daemon.home])).stdout);
    expect(status.status.relay.state).not.toBe("connected");

    const relay2 = await startRelayProcess(relay.port);
    await daemon.waitFor(/relay \w+: connected to .*[\s\S]*relay \w+: connected to/, 15_000);
    expect((await client(daemon.link!).listAgents()).length).toBe(0);
    status = JSON.parse((await runCli(["daemon", "status", "--json", "--home", daemon.home])).stdout);
    expect(status.status.relay.state).toBe("connected");
    expect(status.status.relay.reconnects).toBeGreaterThanOrEqual(1);
    await relay2.stop();
  });

  it("keeps agent history across a daemon kill -9; running agents keep running (same pid) and are re-adopted", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    let c = client(daemon.link!);
    const done = await c.runAgent({ argv: printer(5), name: "done" });
    for await (const _ of c.logs(done.id, { follow: true })) void _;
    const running = await c.runAgent({ argv: [process.execPath, "-e", "setInterval(()=>{},1000)"], name: "running" });
    c.close();
    await daemon.kill9();
    const again = await startDaemonProcess({ home: daemon.home, relay: `ws://${relay.endpoint}` });
    c = client(again.link!);
    const agents = await c.listAgents({ all: true });
    const byName = Object.fromEntries(agents.map((a) => [a.name, a]));
    expect(byName.done).toMatchObject({ state: "exited", exitCode: 0 });
    expect(byName.running).toMatchObject({ state: "running", pid: running.pid });
    let out = "";
    for await (const chunk of c.logs(done.id)) out += new TextDecoder().decode(chunk.data);
    expect(out).toBe(expected(5));
    expect(await c.stopAgent(running.id)).toMatchObject({ state: "killed", reason: "stopped" });
  });

  it("refuses a second daemon on the same home", async () => {
    const daemon = await startDaemonProcess({ relay: "none" });
    const second = await runCli(["daemon", "start", "--home", daemon.home, "--no-relay", "--no-qr"], {
      timeoutMs: 10_000,
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already running/);
  });
});
