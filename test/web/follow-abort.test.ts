/**
 * The app closes an agent's output view while the agent is silent: logs({ follow, signal }) must end at once
 * (before this, the iterator could only end on the next chunk, leaving the subscription open meanwhile).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DaemonClient } from "../../src/index.js";
import { nodeAgent, removeHomes, startStack, type Stack } from "./helpers.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ app: false });
});
afterAll(async () => {
  await stack?.close();
  await removeHomes();
});

it("aborting a follow ends the iterator promptly and the client stays usable", async () => {
  const agent = await stack.daemon.agents.run({
    argv: nodeAgent("console.log('one'); setTimeout(() => {}, 60000)"),
    name: "quiet",
  });
  const client = new DaemonClient({ offer: stack.link, reconnect: true });
  try {
    const abort = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const chunk of client.logs(agent.id, { follow: true, signal: abort.signal })) {
        seen.push(new TextDecoder().decode(chunk.data));
        if (seen.join("").includes("one\n")) setTimeout(() => abort.abort(), 50);
      }
    })();
    const started = Date.now();
    await done;
    expect(seen.join("")).toBe("one\n");
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await client.listAgents()).map((a) => a.id)).toContain(agent.id);
    // Already aborted: returns without subscribing.
    const again = [];
    for await (const c of client.logs(agent.id, { follow: true, signal: abort.signal })) again.push(c);
    expect(again).toEqual([]);
  } finally {
    client.close();
  }
});
