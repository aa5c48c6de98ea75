import { afterAll, it } from "vitest";
import { MessageType } from "../../src/protocol/frame.js";
import { client, rawSession, relayUrl, request, startEnv, teardown, sleep } from "./env.js";
afterAll(teardown);

async function lat(c: any, n: number) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await c.listAgents(); xs.push(performance.now() - t); }
  xs.sort((a, b) => a - b);
  return { p50: xs[Math.floor(n / 2)], p90: xs[Math.floor(n * 0.9)], max: xs[n - 1] };
}

it("exp", async () => {
  const env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
  const honest = client(env.offer);
  await honest.connect();
  await lat(honest, 20);
  console.log("idle " + JSON.stringify(await lat(honest, 40)));
  for (const mode of ["chunks", "requests"]) {
    const atk = await rawSession(relayUrl(env.relay.endpoint, env.offer.serverId), env.offer, { channel: { maxChunkPlaintext: 16, maxOutgoingMessage: 64 << 20 } });
    let stop = false; let sent = 0;
    const body = new Uint8Array(4 * 1024 * 1024 - 10);
    const frames = mode === "chunks" ? atk.channel.encrypt({ type: MessageType.CONTROL, body }) : [];
    let fi = 0; let id = 1;
    const loop = (async () => {
      while (!stop) {
        if (atk.sock.ws.bufferedAmount < 64 * 1024) {
          for (let i = 0; i < 200; i++) {
            if (mode === "chunks") { if (fi < frames.length - 1) atk.sock.send(frames[fi++]!); }
            else atk.sendMessage(request(id++, "agents.list", {}));
            sent++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await sleep(300);
    console.log(mode + " flood " + JSON.stringify(await lat(honest, 40)) + " sent " + sent + " closed " + JSON.stringify(atk.sock.closeInfo));
    stop = true; await loop;
    atk.sock.ws.terminate();
    await sleep(200);
  }
});
