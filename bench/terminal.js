/**
 * Section 6 of `npm run bench`: terminals (issue 14), paseo side by side with `ssh -tt` to a throwaway OpenSSH
 * server on loopback (bench/sshd.js) and a local PTY (the floor), in the same run:
 *
 *   - keystroke → echo latency on an interactive bash: local PTY, ssh -tt, `paseo attach` (relay / direct) driven
 *     under a PTY like ssh, and the SDK in-process (`client.attach`, relay / direct);
 *   - throughput of a 50 MB burst of base64 text from a terminal program to the attached client, same paths;
 *   - wall time of `paseo exec --relay FILE -- true` vs `ssh 127.0.0.1 true` (and direct, and `node -e 0`);
 *   - attach time with 1 MB vs 100 MB of history (attach = screen snapshot + the log after it: bounded by the
 *     screen, not the history);
 *   - memory per idle terminal agent: the daemon's RSS growth, and each agent's host process.
 *
 * Called by run.js (`--only 6`) with its figure/ratio bookkeeping; starts its own relay and daemon processes. When
 * sshd is not installed (or cannot start), every ssh figure is skipped and a note says so; the rest still runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonClient } from "../dist/index.js";
import { CLI, runNode, sleep, summarize, tmpDir, trackPid, untrackPid, withTimeout } from "./lib.js";
import { keystrokeLatency, ptyClient, sdkClient, throughputRun } from "./pty-drive.js";
import { findSsh, startSshd } from "./sshd.js";
import { BASH, PROMPT, makePayload, measureAttach, measureMemory } from "./terminal-agents.js";

const FULL = {
  keys: 400,
  execRuns: 20,
  tputBytes: 50e6,
  tputReps: 3,
  attachSmall: 1e6,
  attachLarge: 100e6,
  attachReps: 30,
  idleAgents: 10,
};
const QUICK = {
  keys: 80,
  execRuns: 5,
  tputBytes: 8e6,
  tputReps: 1,
  attachSmall: 1e6,
  attachLarge: 10e6,
  attachReps: 6,
  idleAgents: 3,
};
const MARKER = "__TB_END__";

/** The paths every probe runs, in this order (the ones that cannot run here are dropped with a note). */
const PATHS = [
  { name: "local", label: "local PTY (floor)" },
  { name: "ssh", label: "ssh -tt 127.0.0.1" },
  { name: "cli.relay", label: "paseo attach under a PTY, relay" },
  { name: "cli.direct", label: "paseo attach under a PTY, direct" },
  { name: "sdk.relay", label: "SDK client.attach in-process, relay" },
  { name: "sdk.direct", label: "SDK client.attach in-process, direct" },
];

export async function sectionTerminal({
  quick,
  figures,
  figure,
  ratio,
  notes,
  details,
  log,
  startRelayProc,
  startDaemonProc,
}) {
  const P = quick ? QUICK : FULL;
  const out = { sizes: P };
  details.terminal = out;
  const dir = tmpDir("paseo-bench-term-");

  const tools = findSsh();
  let sshd = null;
  let sshMissing = tools.missing ?? null;
  if (!sshMissing) {
    try {
      sshd = await startSshd(tools);
    } catch (err) {
      sshMissing = `sshd could not start: ${err.message}`;
    }
  }
  if (sshMissing) {
    notes.push(
      `terminal: the ssh column could NOT be run — ${sshMissing}; ssh figures and ratios are missing from this run`,
    );
    log(`6: ssh column skipped: ${sshMissing}`);
  } else log(`6: sshd ${tools.sshd} on 127.0.0.1:${sshd.port} (throwaway keys and config in a temp dir)`);
  out.ssh = sshMissing ? { skipped: sshMissing } : { sshd: tools.sshd, version: sshVersion(tools.ssh) };

  const relay = await startRelayProc();
  const daemon = await startDaemonProc(relay.base);
  // The relay link goes to the CLI as a 0600 file, never argv (`--relay FILE`, as a user would keep it).
  const offerFile = join(dir, "relay-offer");
  writeFileSync(offerFile, `${daemon.link}\n`, { mode: 0o600 });
  const clients = {
    direct: new DaemonClient({ offer: daemon.localOffer, connectTimeoutMs: 10_000 }),
    relay: new DaemonClient({ offer: daemon.relayOffer, connectTimeoutMs: 10_000 }),
  };
  const agents = trackAgents(clients.direct, daemon.home);
  const cliAttach = (via, id) =>
    ptyClient(
      `cli.${via}`,
      [process.execPath, CLI, "attach", id, ...(via === "relay" ? ["--relay", offerFile] : ["--home", daemon.home])],
      { env: { PASEO_HOME: undefined, PASEO_RELAY_OFFER: undefined } },
    );
  const has = (name) => name !== "ssh" || !sshMissing;
  const ctx = { P, figures, figure, ratio, notes, log, out, dir, sshd, has, clients, agents, cliAttach, daemon };
  try {
    await clients.direct.connect();
    await clients.relay.connect();
    // First, on a fresh daemon: memory is the growth of its RSS, which the other probes would blur.
    log(`6: memory per idle terminal agent (${P.idleAgents} × bash under a PTY)`);
    Object.assign(out, { memory: await measureMemory(ctx) });
    await keystrokes(ctx);
    await execWall(ctx, offerFile);
    await throughput(ctx);
    log(`6: attach time with ${P.attachSmall / 1e6} MB vs ${P.attachLarge / 1e6} MB of history`);
    out.attach = await measureAttach(ctx);
  } finally {
    for (const c of Object.values(clients)) c.close();
    await agents.endAll(daemon);
    await relay.stop();
    await sshd?.stop();
  }
}

function sshVersion(ssh) {
  const r = spawnSync(ssh, ["-V"], { encoding: "utf8" }); // OpenSSH prints its version on stderr
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() || "unknown";
}

/** Whether a pid (or, negative, a process group) still exists. */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** A host process is recognised by its title (`paseo-host <home>/agents/<id>`) before it is signalled. */
function isHostOf(pid, id) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(id);
  } catch {
    return false;
  }
}

/**
 * Agents this section starts: their process groups and host processes are tracked so that any exit path of the
 * bench kills them (agents outlive the daemon by design), and endAll() ends them all through the daemon (SIGUSR2 =
 * stop and end every agent, docs/agent-hosts.md), then waits for every host to leave and stops tracking them (a
 * pid kept tracked after its process is gone could be reused by someone else's process by the time the bench exits).
 */
function trackAgents(admin, home) {
  const started = [];
  return {
    async run(params) {
      const a = await admin.runAgent(params);
      trackPid(-a.pid);
      try {
        const meta = JSON.parse(readFileSync(join(home, "agents", a.id, "meta.json"), "utf8"));
        if (meta.host?.pid) trackPid(meta.host.pid);
        a.hostPid = meta.host?.pid;
      } catch {
        // no host (a runtime without agent hosts): the process group is enough
      }
      started.push(a);
      return a;
    },
    async stop(a) {
      await admin.stopAgent(a.id, { graceMs: 500 }).catch(() => {});
    },
    async endAll(daemon) {
      if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
        daemon.proc.kill("SIGUSR2");
        await withTimeout(daemon.exited, 15_000, "daemon stop --kill-agents").catch(() => daemon.stop());
      }
      // A host waits up to 5 s for the daemon's goodbye after its agent ended.
      const deadline = performance.now() + 8000;
      const left = () =>
        started.filter((a) => alive(-a.pid) || (a.hostPid && alive(a.hostPid) && isHostOf(a.hostPid, a.id)));
      while (left().length && performance.now() < deadline) await sleep(100);
      for (const a of left()) {
        // A live group with this pgid can only be ours; a host pid is checked by its title.
        if (alive(-a.pid)) process.kill(-a.pid, "SIGKILL");
        if (a.hostPid && alive(a.hostPid) && isHostOf(a.hostPid, a.id)) process.kill(a.hostPid, "SIGKILL");
      }
      for (const a of started) {
        untrackPid(-a.pid);
        if (a.hostPid) untrackPid(a.hostPid);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Keystroke → echo

async function keystrokes(ctx) {
  const { P, figure, ratio, notes, log, out, sshd, has, clients, agents, cliAttach } = ctx;
  log(`6: keystroke → echo latency, ${P.keys} keys per path, one every 10 ms, paths interleaved`);
  const eps = [];
  try {
    eps.push(ptyClient("local", BASH, { env: { PS1: PROMPT } }));
    if (has("ssh")) eps.push(ptyClient("ssh", sshd.sshArgv(`PS1='${PROMPT}' exec ${BASH.join(" ")}`, { tty: true })));
    const shell = () => agents.run({ argv: BASH, env: { PS1: PROMPT }, tty: true, cols: 80, rows: 24 });
    for (const via of ["relay", "direct"]) eps.push(cliAttach(via, (await shell()).id));
    for (const via of ["relay", "direct"])
      eps.push(await sdkClient(`sdk.${via}`, clients[via], (await shell()).id, { cols: 80, rows: 24 }));
    for (const ep of eps) await ep.waitSeen(PROMPT, 20_000);
    await Promise.all(eps.map((ep) => ep.quiet(200)));
    const failures = [];
    const samples = await keystrokeLatency(eps, {
      samples: P.keys,
      onFailure: (ep, err) => {
        failures.push({ path: ep.name, error: String(err.message ?? err) });
        notes.push(`terminal keystroke: ${ep.name} failed: ${err.message ?? err}`);
      },
    });
    for (const p of PATHS) {
      if (!samples[p.name]?.length) continue;
      figure(`term.key.${p.name}`, `keystroke → echo, ${p.label}`, "ms", summarize(samples[p.name]));
    }
    out.keystroke = { failures };
  } finally {
    await Promise.all(eps.map((ep) => ep.close().catch(() => {})));
  }
  // For reading the echo figures: one plain request round trip to the daemon on the same connections (an echo is
  // that plus the hop to the agent's host, the PTY and the program).
  const rtt = { relay: [], direct: [] };
  const probe = (await agents.run({ argv: BASH, tty: true })).id;
  for (let i = -10; i < P.keys; i++) {
    for (const via of i % 2 === 0 ? ["relay", "direct"] : ["direct", "relay"]) {
      await sleep(5);
      const t0 = performance.now();
      await clients[via].getAgent(probe);
      if (i >= 0) rtt[via].push(performance.now() - t0);
    }
  }
  for (const via of ["relay", "direct"])
    figure(
      `term.rpc.${via}`,
      `  reference: agents.get round trip (SDK, same connection), ${via}`,
      "ms",
      summarize(rtt[via]),
    );
  const ssh = has("ssh") ? "term.key.ssh" : null;
  vsSsh(ctx, "term.key.p50", "keystroke echo p50, paseo attach via relay / ssh -tt", "term.key.cli.relay", ssh, {
    target: 1,
    op: "<=",
  });
  vsSsh(ctx, "term.key.p99", "keystroke echo p99, paseo attach via relay / ssh -tt", "term.key.cli.relay", ssh, {
    p99: true,
  });
  vsSsh(ctx, "term.key.direct", "keystroke echo p50, paseo attach direct / ssh -tt", "term.key.cli.direct", ssh);
  vsSsh(ctx, "term.key.sdk", "keystroke echo p50, SDK in-process via relay / ssh -tt", "term.key.sdk.relay", ssh);
  if (figureOk(ctx, "term.key.ssh"))
    ratio("term.key.ssh.floor", "keystroke echo p50, ssh -tt / local PTY (floor)", "term.key.ssh", "term.key.local");
  if (figureOk(ctx, "term.key.cli.relay"))
    ratio(
      "term.key.paseo.floor",
      "keystroke echo p50, paseo attach via relay / local PTY (floor)",
      "term.key.cli.relay",
      "term.key.local",
    );
}

/** The figures run.js keeps, read through the ratio bookkeeping (a path that failed has no figure). */
function figureOk(ctx, id) {
  return ctx.figures[id] !== undefined;
}

/** A paseo / ssh ratio row, or a row that says the ssh column could not be run. */
function vsSsh(ctx, id, label, a, ssh, { target, op, p99 = false } = {}) {
  if (!figureOk(ctx, a)) return;
  if (!ssh || !figureOk(ctx, ssh)) {
    ctx.ratio(
      id,
      `${label} (ssh NOT RUN)`,
      { label: a, median: NaN },
      { label: "ssh (not run)", median: NaN },
      { value: NaN },
    );
    return;
  }
  if (p99) {
    const fa = ctx.figures[a];
    const fb = ctx.figures[ssh];
    ctx.ratio(
      id,
      label,
      { label: `${fa.label} p99`, median: fa.p99 },
      { label: `${fb.label} p99`, median: fb.p99 },
      { target, op },
    );
  } else ctx.ratio(id, label, a, ssh, { target, op });
}

// ---------------------------------------------------------------------------------------------------------------
// exec wall time

function timeProcess(argv) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    trackPid(proc.pid);
    let text = "";
    proc.stdout.on("data", (d) => (text += d));
    proc.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    proc.once("error", rej);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      untrackPid(proc.pid);
      res({ code, ms: performance.now() - t0, out: text });
    });
  });
}

async function execWall(ctx, offerFile) {
  const { P, figure, ratio, log, has, sshd, daemon } = ctx;
  log(`6: exec wall time, ${P.execRuns} runs per command, interleaved`);
  const cmds = {
    relay: () => runNode([CLI, "exec", "--relay", offerFile, "--", "true"]),
    direct: () => runNode([CLI, "exec", "--home", daemon.home, "--", "true"]),
    node: () => runNode(["-e", "0"]),
  };
  if (has("ssh")) cmds.ssh = () => timeProcess(sshd.sshArgv("true"));
  const names = Object.keys(cmds);
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = -2; i < P.execRuns; i++) {
    const k = ((i % names.length) + names.length) % names.length;
    for (const n of [...names.slice(k), ...names.slice(0, k)]) {
      const r = await cmds[n]();
      if (r.code !== 0) throw new Error(`exec wall time: ${n} exited ${r.code}: ${r.out.slice(-400)}`);
      if (i >= 0) ms[n].push(r.ms);
    }
  }
  figure("term.exec.relay", "`paseo exec --relay FILE -- true` process wall time", "ms", summarize(ms.relay));
  figure("term.exec.direct", "`paseo exec --home DIR -- true` (direct) process wall time", "ms", summarize(ms.direct));
  if (ms.ssh)
    figure("term.exec.ssh", "`ssh 127.0.0.1 true` process wall time (new connection)", "ms", summarize(ms.ssh));
  figure("term.exec.node", "`node -e 0` process wall time (floor)", "ms", summarize(ms.node));
  vsSsh(
    ctx,
    "term.exec",
    "wall time `paseo exec --relay … -- true` / `ssh localhost true`",
    "term.exec.relay",
    has("ssh") ? "term.exec.ssh" : null,
  );
  ratio("term.exec.direct", "`paseo exec` wall time, relay / direct", "term.exec.relay", "term.exec.direct");
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput

async function throughput(ctx) {
  const { P, figure, log, out, dir, has, sshd, clients, agents, cliAttach } = ctx;
  const payload = makePayload(join(dir, "payload.txt"), P.tputBytes);
  // READY, wait for Enter (so the clock starts when the client is attached and idle), the burst, a marker that
  // appears nowhere in the script itself, then wait again: a client that exits right after the last output can lose
  // its tail under node-pty (issue 14's "watch out"), so every program stays until the bench closes it.
  const script = join(dir, "burst.sh");
  writeFileSync(script, `echo READY\nread x\ncat '${payload}'\nprintf '%s%s\\n' __TB_ END__\nread y\n`);
  const argv = ["sh", script];
  log(`6: throughput, ${P.tputBytes / 1e6} MB of base64 text per run, ${P.tputReps} run(s) per path, interleaved`);
  const agent = async () => agents.run({ argv, tty: true, cols: 80, rows: 24 });
  const open = {
    local: async () => ({ ep: ptyClient("local", argv) }),
    ssh: async () => ({ ep: ptyClient("ssh", sshd.sshArgv(argv.join(" "), { tty: true })) }),
    "cli.relay": () => agent().then((a) => ({ a, ep: cliAttach("relay", a.id) })),
    "cli.direct": () => agent().then((a) => ({ a, ep: cliAttach("direct", a.id) })),
    "sdk.relay": () =>
      agent().then(async (a) => ({ a, ep: await sdkClient("sdk.relay", clients.relay, a.id, { cols: 80, rows: 24 }) })),
    "sdk.direct": () =>
      agent().then(async (a) => ({
        a,
        ep: await sdkClient("sdk.direct", clients.direct, a.id, { cols: 80, rows: 24 }),
      })),
  };
  const names = PATHS.map((p) => p.name).filter(has);
  const rates = Object.fromEntries(names.map((n) => [n, []]));
  const received = Object.fromEntries(names.map((n) => [n, []]));
  for (let rep = 0; rep < P.tputReps; rep++) {
    const order = rep % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const { ep, a } = await open[n]();
      try {
        const r = await throughputRun(ep, MARKER);
        rates[n].push(P.tputBytes / 1e6 / (r.ms / 1000));
        received[n].push(r.bytes);
      } finally {
        await ep.close();
        if (a) await agents.stop(a);
      }
    }
  }
  for (const p of PATHS) {
    if (!rates[p.name]?.length) continue;
    figure(
      `term.tput.${p.name}`,
      `throughput, ${P.tputBytes / 1e6} MB burst, ${p.label}`,
      "MB/s",
      summarize(rates[p.name]),
    );
  }
  out.throughput = { payloadBytes: P.tputBytes, ratesMBps: rates, bytesReceived: received };
  const ssh = has("ssh") ? "term.tput.ssh" : null;
  // Throughput is higher-is-better: paseo / ssh ≥ 1 means paseo is at least as fast.
  vsSsh(ctx, "term.tput", "terminal throughput, paseo attach via relay / ssh -tt", "term.tput.cli.relay", ssh);
  vsSsh(ctx, "term.tput.sdk", "terminal throughput, SDK in-process via relay / ssh -tt", "term.tput.sdk.relay", ssh);
  if (figureOk(ctx, "term.tput.cli.relay"))
    ctx.ratio(
      "term.tput.floor",
      "terminal throughput, paseo attach via relay / local PTY (floor)",
      "term.tput.cli.relay",
      "term.tput.local",
    );
}
