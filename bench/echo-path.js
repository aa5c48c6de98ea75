#!/usr/bin/env node
/**
 * Diagnostic for section 6's keystroke figures (not part of `npm run bench`): keystroke → echo through
 * `agents.input` + `agents.logs` follow — an API that exists both before and after agent hosts — next to an
 * `agents.get` round trip on the same connection, so that two builds can be compared on the same machine:
 *
 *   node bench/echo-path.js [ROOT=.] [KEYS=200]
 *
 * ROOT is a checkout with a built dist/ (e.g. `git archive <commit> | tar -x -C DIR`, a node_modules symlink,
 * `npx tsc -p tsconfig.json`). Starts `paseo daemon start --no-relay` in a temp home, one `bash` agent under a PTY,
 * and ends both with `daemon stop --kill-agents`. Prints one JSON line.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(process.argv[2] ?? ".");
const KEYS = Number(process.argv[3] ?? 200);
const { DaemonClient } = await import(pathToFileURL(join(root, "dist/index.js")).href);
const { readLocalOffer } = await import(pathToFileURL(join(root, "dist/daemon/runtime-files.js")).href);
const cli = join(root, "dist/cli/main.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const home = mkdtempSync(join(tmpdir(), "paseo-echo-"));
const daemon = spawn(process.execPath, [cli, "daemon", "start", "--home", home, "--no-relay", "--no-qr"], { stdio: ["ignore", "pipe", "pipe"] });
let out = "";
daemon.stdout.on("data", (d) => (out += d));
const client = { c: null };
try {
  for (let i = 0; i < 150 && !out.includes("is running"); i++) await sleep(100);
  const c = (client.c = new DaemonClient({ offer: await readLocalOffer(home) }));
  const a = await c.runAgent({ argv: ["bash", "--norc", "--noprofile"], env: { PS1: "$ " }, tty: true });
  await sleep(500);
  let waiter = null;
  let seen = "";
  const follow = (async () => {
    for await (const ch of c.logs(a.id, { since: (await c.getAgent(a.id)).nextSeq, follow: true })) {
      seen += Buffer.from(ch.data).toString("latin1");
      if (waiter && seen.includes(waiter.key)) waiter.resolve(performance.now());
    }
  })();
  follow.catch(() => {});
  await sleep(300);
  const echo = [];
  const rpc = [];
  for (let i = 0; i < KEYS; i++) {
    if (i % 40 === 0) {
      await c.sendInput(a.id, "\x15"); // Ctrl-U: empty the line now and then (untimed)
      await sleep(50);
    }
    await sleep(10);
    const key = "abcdefghij"[i % 10];
    seen = "";
    const echoed = new Promise((resolve) => (waiter = { key, resolve }));
    const t0 = performance.now();
    void c.sendInput(a.id, key);
    echo.push((await echoed) - t0);
    waiter = null;
    await sleep(5);
    const t1 = performance.now();
    await c.getAgent(a.id);
    rpc.push(performance.now() - t1);
  }
  console.log(JSON.stringify({ root, keys: KEYS, echoP50Ms: +median(echo).toFixed(3), agentsGetP50Ms: +median(rpc).toFixed(3) }));
} finally {
  client.c?.close();
  const stop = spawn(process.execPath, [cli, "daemon", "stop", "--kill-agents", "--home", home], { stdio: "ignore" });
  await new Promise((r) => stop.once("exit", r));
  daemon.kill("SIGKILL");
  rmSync(home, { recursive: true, force: true });
}
