import { afterAll, it } from "vitest";
import { spawn } from "node:child_process";
import { client, relayUrl, teardown, sleep } from "./env.js";
import { startRelayProcess, startDaemonProcess, killAll } from "../e2e/harness.js";
import { parseOffer } from "../../src/protocol/offer.js";
afterAll(async () => { await teardown(); await killAll(); });

async function lat(c: any, n: number) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await c.listAgents(); xs.push(performance.now() - t); }
  xs.sort((a, b) => a - b);
  return { p50: xs[Math.floor(n / 2)], p90: xs[Math.floor(n * 0.9)], max: xs[n - 1] };
}

it("exp", async () => {
  const relay = await startRelayProcess();
  const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  const offer = parseOffer(daemon.link!);
  const honest = client(offer);
  await honest.connect();
  await lat(honest, 20);
  console.log("idle " + JSON.stringify(await lat(honest, 40)));
  for (const mode of ["chunks", "requests"]) {
    const p = spawn(process.execPath, ["test/hostile/flooder.mjs", relayUrl(offer.relay, offer.serverId), JSON.stringify(offer), mode, "4000"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    while (!out.includes("ready")) await sleep(10);
    await sleep(300);
    const l = await lat(honest, 40);
    p.stdin.end();
    await new Promise((r) => p.on("exit", r));
    console.log(mode + " flood " + JSON.stringify(l) + " " + out.replace(/\n/g, " "));
    await sleep(300);
  }
});
