#!/usr/bin/env node
/**
 * Diagnostic for section 6's keystroke figures (not part of `npm run bench`): keystroke → echo through
 * `agents.input` + `agents.logs` follow — an API that exists both before and after agent hosts — and, when the
 * build has it, through the SDK's `client.attach` (`terminal.input` + the attachment's stream, a second agent),
 * next to an `agents.get` round trip on the same connection, so that builds can be compared on the same machine:
 *
 *   node bench/echo-path.js [ROOT[,ROOT2,…]=.] [KEYS=200]
 *
 * A ROOT is a checkout with a built dist/ (e.g. `git archive <commit> | tar -x -C DIR`, a node_modules symlink,
 * `npx tsc -p tsconfig.json`). For each ROOT: `paseo daemon start --no-relay` of that build in a temp home, one
 * `bash` agent under a PTY, and a DaemonClient of that build. With several ROOTs the keys are interleaved (key 1 to
 * every build, then key 2, …), so that all builds meet the same machine load — on a shared, loaded machine runs
 * minutes apart differ by more than the changes being measured. Daemons and agents are ended with
 * `daemon stop --kill-agents`. Prints one JSON line per ROOT.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const roots = (process.argv[2] ?? ".").split(",").map((r) => resolve(r));
const KEYS = Number(process.argv[3] ?? 200);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** One build: its daemon, its client, its agent, and the echo follower. */
async function start(root) {
  const { DaemonClient } = await import(pathToFileURL(join(root, "dist/index.js")).href);
  const { readLocalOffer } = await import(pathToFileURL(join(root, "dist/daemon/runtime-files.js")).href);
  const cli = join(root, "dist/cli/main.js");
  const home = mkdtempSync(join(tmpdir(), "paseo-echo-"));
  const daemon = spawn(process.execPath, [cli, "daemon", "start", "--home", home, "--no-relay", "--no-qr"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const b = {
    root,
    cli,
    home,
    daemon,
    c: null,
    a: null,
    waiter: null,
    seen: "",
    echo: [],
    rpc: [],
    term: null,
    tseen: "",
    twaiter: null,
    techo: [],
  };
  let out = "";
  daemon.stdout.on("data", (d) => (out += d));
  for (let i = 0; i < 150 && !out.includes("is running"); i++) await sleep(100);
  b.c = new DaemonClient({ offer: await readLocalOffer(home) });
  b.a = await b.c.runAgent({ argv: ["bash", "--norc", "--noprofile"], env: { PS1: "$ " }, tty: true });
  if (typeof b.c.attach === "function") {
    const t = await b.c.runAgent({ argv: ["bash", "--norc", "--noprofile"], env: { PS1: "$ " }, tty: true });
    b.term = await b.c.attach(t.id, { cols: 80, rows: 24 });
    b.term.onData((d) => {
      b.tseen += Buffer.from(d).toString("latin1");
      if (b.twaiter && b.tseen.includes(b.twaiter.key)) b.twaiter.resolve(performance.now());
    });
  }
  return b;
}

async function follow(b) {
  for await (const ch of b.c.logs(b.a.id, { since: (await b.c.getAgent(b.a.id)).nextSeq, follow: true })) {
    b.seen += Buffer.from(ch.data).toString("latin1");
    if (b.waiter && b.seen.includes(b.waiter.key)) b.waiter.resolve(performance.now());
  }
}

async function key(b, i) {
  if (i % 40 === 0) {
    await b.c.sendInput(b.a.id, "\x15"); // Ctrl-U: empty the line now and then (untimed)
    await sleep(50);
  }
  await sleep(10);
  const key = "abcdefghij"[i % 10];
  b.seen = "";
  const echoed = new Promise((resolve) => (b.waiter = { key, resolve }));
  const t0 = performance.now();
  void b.c.sendInput(b.a.id, key);
  b.echo.push((await echoed) - t0);
  b.waiter = null;
  if (b.term) {
    if (i % 40 === 0) {
      await b.term.write("\x15");
      await sleep(50);
    }
    await sleep(10);
    b.tseen = "";
    const techoed = new Promise((resolve) => (b.twaiter = { key, resolve }));
    const t2 = performance.now();
    void b.term.write(key);
    b.techo.push((await techoed) - t2);
    b.twaiter = null;
  }
  await sleep(5);
  const t1 = performance.now();
  await b.c.getAgent(b.a.id);
  b.rpc.push(performance.now() - t1);
}

const builds = [];
try {
  for (const root of roots) builds.push(await start(root));
  await sleep(500);
  for (const b of builds) follow(b).catch(() => {});
  await sleep(300);
  for (let i = 0; i < KEYS; i++) for (const b of i % 2 ? [...builds].reverse() : builds) await key(b, i);
  for (const b of builds) {
    const attach = b.techo.length ? { attachEchoP50Ms: +median(b.techo).toFixed(3) } : {};
    console.log(
      JSON.stringify({
        root: b.root,
        keys: KEYS,
        echoP50Ms: +median(b.echo).toFixed(3),
        ...attach,
        agentsGetP50Ms: +median(b.rpc).toFixed(3),
      }),
    );
  }
} finally {
  for (const b of builds) {
    b.term?.detach?.().catch?.(() => {});
    b.c?.close();
    const stop = spawn(process.execPath, [b.cli, "daemon", "stop", "--kill-agents", "--home", b.home], {
      stdio: "ignore",
    });
    await new Promise((r) => stop.once("exit", r));
    b.daemon.kill("SIGKILL");
    rmSync(b.home, { recursive: true, force: true });
  }
}
