/**
 * The CLI end to end through the Worker relay (src/relay-worker under workerd via miniflare, as `npm run
 * relay:worker` runs it): a daemon started with `--relay ws://127.0.0.1:<port>` is reached by `paseo ls`, `run`,
 * `logs -f`, `send` and `stop` with its link, `daemon status` shows that relay, and `logs -f` survives the Worker
 * relay going away and coming back on the same port (the daemon and the follower both reconnect).
 */
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS launcher shared with `npm run relay:worker` and the bench
import { startWorkerRelay } from "../../scripts/relay-worker.js";
import { killAll, runCli, startDaemonProcess, startProcess } from "./harness.js";

interface WorkerRelay {
  port: number;
  wsUrlBase: string;
  close(): Promise<void>;
}

const relays: WorkerRelay[] = [];
afterAll(async () => {
  await killAll();
  await Promise.all(relays.map((r) => r.close()));
});

async function workerRelay(port = 0): Promise<WorkerRelay> {
  const relay = (await startWorkerRelay({ port, log: "error" })) as WorkerRelay;
  relays.push(relay);
  return relay;
}

describe("CLI through the Worker relay (workerd)", () => {
  it("ls, run, logs -f, send, stop; daemon status shows the Worker relay", async () => {
    const relay = await workerRelay();
    const daemon = await startDaemonProcess({ relay: relay.wsUrlBase });
    const link = daemon.link!;
    const ls = await runCli(["ls", "--relay", link]);
    expect(ls.code, ls.stderr).toBe(0);

    const script = "console.log('ready'); process.stdin.on('data', d => console.log('got ' + String(d).trim()))";
    const run = await runCli(["run", "--relay", link, "--name", "chat", "--", process.execPath, "-e", script]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const follow = startProcess(["logs", "-f", id, "--relay", link]);
    await follow.waitFor(/ready/);
    const send = await runCli(["send", id, "hello worker", "--relay", link]);
    expect(send.code, send.stderr).toBe(0);
    await follow.waitFor(/got hello worker/);
    const stop = await runCli(["stop", id, "--json", "--relay", link]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await follow.exited).toBe(143);
    expect(follow.stdout()).toBe("ready\ngot hello worker\n");
    const after = await runCli(["ls", "-a", "--relay", link]);
    expect(after.stdout).toMatch(/chat\s+killed\(SIGTERM\)/);

    const status = JSON.parse((await runCli(["daemon", "status", "--json", "--home", daemon.home])).stdout);
    expect(status.status.relay.state).toBe("connected");
    expect(JSON.stringify(status.status.relay)).toContain(`127.0.0.1:${relay.port}`);
  });

  it("logs -f across a Worker relay restart loses and repeats nothing", async () => {
    const relay = await workerRelay();
    const daemon = await startDaemonProcess({ relay: relay.wsUrlBase });
    const link = daemon.link!;
    const script = "let i=0;const t=setInterval(()=>{console.log('n'+(++i));if(i>=600)clearInterval(t)},5)";
    const run = await runCli(["run", "--relay", link, "--", process.execPath, "-e", script]);
    expect(run.code, run.stderr).toBe(0);
    const follow = startProcess(["logs", "-f", run.stdout.trim(), "--relay", link]);
    await follow.waitFor(/n50\n/);
    await relay.close(); // workerd exits: every socket drops, as on a Cloudflare deploy
    await workerRelay(relay.port);
    expect(await follow.exited).toBe(0);
    expect(follow.stdout().trim().split("\n")).toEqual(Array.from({ length: 600 }, (_, i) => `n${i + 1}`));
  });
});
