/** run → logs -f → send → stop through the relay with the real CLI; logs -f survives a relay restart exactly. */
import { afterAll, describe, expect, it } from "vitest";
import { killAll, runCli, startDaemonProcess, startProcess, startRelayProcess } from "./harness.js";

afterAll(killAll);

describe("CLI through the relay", () => {
  it("run, logs -f, send, stop", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const link = daemon.link!;
    const script = "console.log('ready'); process.stdin.on('data', d => console.log('got ' + String(d).trim()))";
    const run = await runCli(["run", "--relay", link, "--name", "chat", "--", process.execPath, "-e", script]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[a-z2-7]{8}$/);

    const follow = startProcess(["logs", "-f", id, "--relay", link]);
    await follow.waitFor(/ready/);
    const send = await runCli(["send", id, "hello there", "--relay", link]);
    expect(send.code, send.stderr).toBe(0);
    await follow.waitFor(/got hello there/);
    const piped = await runCli(["send", id, "-", "--relay", link], { input: "from stdin\n" });
    expect(piped.code, piped.stderr).toBe(0);
    await follow.waitFor(/got from stdin/);

    const stop = await runCli(["stop", id, "--json", "--relay", link]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ state: "killed", signal: "SIGTERM" });
    expect(await follow.exited).toBe(143); // the follower ends when the agent ends, with its status (128 + SIGTERM)
    // (a multi-user machine also gets the one-line warning about the link in argv: test/hostile/argv-leak.test.ts)
    expect(follow.stderr().replace(/^paseo: warning: .*\n/gm, "")).toBe("agent chat was killed by SIGTERM\n");
    expect(follow.stdout()).toBe("ready\ngot hello there\ngot from stdin\n");
    const ls = await runCli(["ls", "-a", "--relay", link]);
    expect(ls.stdout).toMatch(/chat\s+killed\(SIGTERM\)/);
  });

  it("logs -f across a relay restart loses and repeats nothing", async () => {
    const relay = await startRelayProcess();
    const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    const link = daemon.link!;
    // 600 numbered lines over ~3 s; the relay is killed and restarted in the middle.
    const script = "let i=0;const t=setInterval(()=>{console.log('n'+(++i));if(i>=600)clearInterval(t)},5)";
    const run = await runCli(["run", "--relay", link, "--", process.execPath, "-e", script]);
    const id = run.stdout.trim();
    const follow = startProcess(["logs", "-f", id, "--relay", link]);
    await follow.waitFor(/n50\n/);
    await relay.kill9();
    const relay2 = await startRelayProcess(relay.port);
    expect(await follow.exited).toBe(0);
    const lines = follow.stdout().trim().split("\n");
    expect(lines).toEqual(Array.from({ length: 600 }, (_, i) => `n${i + 1}`));
    await relay2.stop();
  });
});
