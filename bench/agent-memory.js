#!/usr/bin/env node
/**
 * Memory per idle terminal agent (after `npm run build`):
 *
 *   node bench/agent-memory.js [N=20]
 *
 * Starts a real `paseo daemon start --no-relay` in a temp home, measures its RSS, starts N idle terminal agents
 * (`sleep 600` under a PTY, 80×24), waits for things to settle, and reports the daemon's RSS growth per agent and
 * the RSS of each agent's host process (the program itself is not counted: it is the user's). Everything it starts
 * is ended with `paseo daemon stop --kill-agents`. Prints one JSON object.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DaemonClient } from "../dist/index.js";
import { readLocalOffer } from "../dist/daemon/runtime-files.js";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/cli/main.js");
const N = Number(process.argv[2] ?? 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Memory only this process uses (Private_Clean + Private_Dirty) and its proportional share (Pss), in KiB. */
function privateKiB(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? NaN);
  return { priv: get("Private_Clean") + get("Private_Dirty"), pss: get("Pss") };
}

async function settledRss(pid) {
  // The minimum of a few samples: a passing GC or timer should not count as the agent's cost.
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    min = Math.min(min, rssKiB(pid));
    await sleep(200);
  }
  return min;
}

const home = mkdtempSync(join(tmpdir(), "paseo-mem-"));
const daemon = spawn(process.execPath, [CLI, "daemon", "start", "--home", home, "--no-relay", "--no-qr"], {
  stdio: ["ignore", "pipe", "pipe"],
});
let out = "";
daemon.stdout.on("data", (d) => (out += d));
try {
  for (let i = 0; i < 100 && !out.includes("is running"); i++) await sleep(100);
  const client = new DaemonClient({ offer: await readLocalOffer(home) });
  await client.listAgents();
  await sleep(1000);
  const before = await settledRss(daemon.pid);
  const agents = [];
  for (let i = 0; i < N; i++)
    agents.push(await client.runAgent({ argv: ["sleep", "600"], tty: true, name: `idle${i}` }));
  await sleep(2000);
  const after = await settledRss(daemon.pid);
  const hosts = agents.map((a) => JSON.parse(readFileSync(join(home, "agents", a.id, "meta.json"), "utf8")).host.pid);
  const hostRss = hosts.map(rssKiB);
  const hostMem = hosts.map(privateKiB);
  const avgMiB = (xs) => +(xs.reduce((a, b) => a + b, 0) / xs.length / 1024).toFixed(1);
  client.close();
  console.log(
    JSON.stringify(
      {
        agents: N,
        daemonRssBeforeMiB: +(before / 1024).toFixed(1),
        daemonRssAfterMiB: +(after / 1024).toFixed(1),
        daemonPerAgentKiB: Math.round((after - before) / N),
        hostRssMiB: {
          min: +(Math.min(...hostRss) / 1024).toFixed(1),
          avg: avgMiB(hostRss),
          max: +(Math.max(...hostRss) / 1024).toFixed(1),
        },
        // RSS counts the Node binary's pages shared by every host; private memory is what one more agent really costs.
        hostPrivateMiB: avgMiB(hostMem.map((m) => m.priv)),
        hostPssMiB: avgMiB(hostMem.map((m) => m.pss)),
        node: process.version,
      },
      null,
      2,
    ),
  );
} finally {
  // Asynchronously: a blocked parent could neither reap the daemon nor read its output.
  const stop = spawn(process.execPath, [CLI, "daemon", "stop", "--kill-agents", "--home", home], { stdio: "ignore" });
  await new Promise((r) => stop.once("exit", r));
  daemon.kill("SIGKILL");
  rmSync(home, { recursive: true, force: true });
}
