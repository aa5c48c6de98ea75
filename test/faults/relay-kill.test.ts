/**
 * Fault: `kill -9` the relay while a `paseo logs -f` (a real CLI process) follows an agent through it, then restart
 * the relay on the same port. The daemon and the follower reconnect on their own, and the follower's output is
 * exactly what the agent wrote: same hash, every line once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { parseOffer } from "../../src/protocol/offer.js";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startProcess,
  startRelayProcess,
  type DaemonProc,
  type RelayProc,
} from "../e2e/harness.js";
import { backend, teardown, track, withTimeout } from "../hostile/env.js";
import { DaemonClient } from "../../src/client/daemon-client.js";

let relay: RelayProc;
let daemon: DaemonProc;

beforeAll(async () => {
  relay = await startRelayProcess();
  daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
});
afterAll(async () => {
  await teardown();
  await killAll();
});

const LINES = 350;
const line = (i: number) => `line ${String(i).padStart(5, "0")} ${"x".repeat(40)}\n`;
const EXPECTED = Array.from({ length: LINES }, (_, i) => line(i)).join("");
// One line every 10 ms: ~3.5 s of output, so the relay dies and comes back while the agent is still writing.
const WRITER = `let i=0;const t=setInterval(()=>{process.stdout.write('line '+String(i).padStart(5,'0')+' '+'x'.repeat(40)+'\\n');if(++i===${LINES})clearInterval(t)},10)`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("relay killed mid-stream", () => {
  it("kill -9 the relay during `logs -f`, restart it on the same port: every byte arrives exactly once", async () => {
    const link = daemon.link!;
    const offer = parseOffer(link);
    const c = track(new DaemonClient({ offer, backend }), (x) => x.close());
    const agent = await c.runAgent({ argv: [process.execPath, "-e", WRITER], name: "writer" });
    c.close();

    const follower = startProcess(["logs", "-f", agent.id, "--relay", link]);
    await follower.waitFor(/line 00030/, 10_000);
    const killedAt = Date.now();
    await relay.kill9();
    const restarted = await startRelayProcess(relay.port);
    expect(restarted.port).toBe(relay.port);

    const code = await withTimeout(follower.exited, 25_000, "follower ends with the agent");
    expect(code, follower.stderr()).toBe(0);
    const out = follower.stdout();
    expect(out.length).toBe(EXPECTED.length);
    expect(sha(out)).toBe(sha(EXPECTED));
    const seen = out.trimEnd().split("\n");
    expect(new Set(seen).size).toBe(seen.length); // none repeated

    // The agent was still writing when the relay died (so part of the output crossed the reconnect) …
    const ls = await runCli(["ls", "-a", "--json", "--relay", link]);
    expect(ls.code, ls.stderr).toBe(0);
    const writer = (JSON.parse(ls.stdout) as { id: string; endedAt: string; state: string }[]).find(
      (a) => a.id === agent.id,
    )!;
    expect(writer.state).toBe("exited");
    expect(Date.parse(writer.endedAt)).toBeGreaterThan(killedAt);
    // … and that `ls` went through the restarted relay: the daemon re-registered on its own.
  });
});
