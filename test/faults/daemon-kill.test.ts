/**
 * Fault: `kill -9` the daemon and restart it with the same home. During the gap a client gets "daemon offline"
 * (DaemonOfflineError) quickly instead of hanging; afterwards the agent history is intact (ended agents and their
 * logs), the agent that was running is still running (agents live in their own host processes and are re-adopted,
 * same pid), and a long-lived client with reconnect on works again without being recreated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaemonClient } from "../../src/client/daemon-client.js";
import { DaemonOfflineError } from "../../src/client/errors.js";
import { parseOffer, type Offer } from "../../src/protocol/offer.js";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startRelayProcess,
  tmpHome,
  type DaemonProc,
  type RelayProc,
} from "../e2e/harness.js";
import { backend, outcome, teardown, track, waitUntil, sleep } from "../hostile/env.js";

let relay: RelayProc;
let daemon: DaemonProc;
let home: string;
const orphans: number[] = [];

beforeAll(async () => {
  relay = await startRelayProcess();
  home = tmpHome();
  daemon = await startDaemonProcess({ home, relay: `ws://${relay.endpoint}` });
});
afterAll(async () => {
  await teardown();
  // The agent survives the daemon and is stopped by the test; this is only a safety net for a failed assertion.
  for (const pid of orphans) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await killAll();
});

const newClient = (offer: Offer, options: Partial<ConstructorParameters<typeof DaemonClient>[0]> = {}) =>
  track(new DaemonClient({ offer, backend, connectTimeoutMs: 5000, requestTimeoutMs: 5000, ...options }), (c) =>
    c.close(),
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("daemon killed and restarted", () => {
  it("offline quickly during the gap; history intact and clients back afterwards", async () => {
    const link = daemon.link!;
    const offer = parseOffer(link);
    const c = newClient(offer);
    const done = await c.runAgent({
      argv: [process.execPath, "-e", "console.log('written before the crash')"],
      name: "history",
    });
    for (let i = 0; i < 100 && (await c.getAgent(done.id)).state === "running"; i++) await sleep(20);
    const running = await c.runAgent({
      argv: [process.execPath, "-e", "setTimeout(() => {}, 60000)"],
      name: "survivor",
    });
    orphans.push(running.pid!);
    const before = await c.listAgents({ all: true });
    c.close();

    // A long-lived client that will have to find its way back by itself.
    const survivor = newClient(offer, { reconnect: { minMs: 100, maxMs: 400 } });
    await survivor.listAgents();

    await daemon.kill9();

    // The gap: a fresh client is told "daemon offline" within the relay's grace, not after a timeout.
    const t = performance.now();
    const gap = await outcome(newClient(offer).listAgents());
    const gapMs = performance.now() - t;
    expect(gap.ok).toBe(false);
    if (!gap.ok) {
      expect(gap.error).toBeInstanceOf(DaemonOfflineError);
      expect(gap.error.code).toBe("DAEMON_OFFLINE");
    }
    expect(gapMs).toBeLessThan(1500);
    const cli = await runCli(["ls", "--relay", link], { timeoutMs: 10_000 });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/daemon offline/i);

    daemon = await startDaemonProcess({ home, relay: `ws://${relay.endpoint}` });

    // History: the ended agent and its output; the running one was re-adopted, same pid, still alive.
    const after = await newClient(offer).listAgents({ all: true });
    expect(after.map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort());
    const history = after.find((a) => a.id === done.id)!;
    expect(history.state).toBe("exited");
    expect(history.exitCode).toBe(0);
    const kept = after.find((a) => a.id === running.id)!;
    expect(kept).toMatchObject({ state: "running", pid: running.pid });
    expect(alive(running.pid!)).toBe(true);
    let text = "";
    for await (const chunk of newClient(offer).logs(done.id)) text += new TextDecoder().decode(chunk.data);
    expect(text).toBe("written before the crash\n");
    const stopped = await newClient(offer).stopAgent(running.id);
    expect(stopped).toMatchObject({ state: "killed", reason: "stopped" });
    await waitUntil(() => !alive(running.pid!), "the stopped agent's process is gone", 3000);

    // The long-lived client is back on its own.
    await expect(survivor.listAgents({ all: true })).resolves.toHaveLength(before.length);
    expect(survivor.state).toBe("connected");
  });
});
