/**
 * Section 7: the Worker relay (src/relay-worker under workerd, through miniflare: scripts/relay-worker.js) next to
 * the Node relay (`paseo relay`), side by side in one run on 127.0.0.1:
 *
 *   - `paseo ls --relay <link>` wall time (the CLI process, fresh connection) and in-process fresh `listAgents`;
 *   - stream throughput of a paseo SecureChannel through each relay (bench/peers.js, 64 KiB messages);
 *   - relay memory per idle daemon connection: RSS of the relay process (Node) and of the workerd process with N
 *     registered idle daemons, and for workerd again once their Durable Objects were evicted (hibernation: workerd
 *     evicts an object after 10 s without events; the sockets stay open).
 *
 * Local workerd is not Cloudflare's network: one workerd process on this machine, no edge, no TLS, no placement of
 * Durable Objects near their users. These ratios say what the runtime and the code cost here, not what a deployed
 * relay's users will see.
 */
import { readdirSync, readFileSync } from "node:fs";
import { WebSocket } from "ws";
import { DaemonClient } from "../dist/index.js";
import { nativeBackend } from "../dist/protocol/crypto/native.js";
import { answerChallenge } from "../dist/protocol/relay-auth.js";
import { encodeResume } from "../dist/protocol/relay-mux.js";
import { deriveServerId } from "../dist/protocol/server-id.js";
import { startWorkerRelay } from "../scripts/relay-worker.js";
import { BENCH_DIR, CLI, rssOf, runNode, sleep, startNode, summarize, withTimeout } from "./lib.js";
import { streamPaseo } from "./peers.js";
import { join } from "node:path";

const MSG_BYTES = 64 * 1024;
/** Admission limits raised as for the Node relay in run.js (RELAY_FLAGS): they only gate admission. */
const WORKER_LIMITS = { perIpMaxConnections: 1_000_000, perIpRatePerSecond: 1_000_000 };

/** Pids of this process's descendants whose command name is `name` (Linux /proc). */
function descendantsNamed(name) {
  const parent = new Map();
  const comm = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      comm.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // exited while we looked
    }
  }
  const isOurs = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === process.pid) return true;
    return false;
  };
  return [...comm].filter(([pid, c]) => c === name && isOurs(pid)).map(([pid]) => pid);
}

/** Register `n` idle daemons (real proof of possession) on the relay at `base`, 20 at a time (under the Node relay's
 * 32 pre-upgrade connections per IP); returns their sockets. */
async function idleDaemons(base, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, async () => {
      const key = nativeBackend.generateKeyPair();
      const serverId = deriveServerId(nativeBackend, key.publicKey);
      const ws = new WebSocket(`${base}/v1/ws?role=server&serverId=${serverId}`);
      sockets.push(ws);
      await withTimeout(
        new Promise((resolve, reject) => {
          let challenged = false;
          ws.on("message", (m) => {
            if (challenged) return resolve();
            challenged = true;
            ws.send(answerChallenge(nativeBackend, key, serverId, m));
          });
          ws.on("error", reject);
          ws.on("close", (code) => reject(new Error(`idle daemon closed with ${code}`)));
        }),
        20_000,
        "idle daemon registration",
      );
    });
    await Promise.all(batch);
  }
  return sockets;
}

export async function sectionWorker({ quick, figure, ratio, notes, details, log, startRelayProc, startDaemonProc }) {
  log("7: Worker relay (workerd via miniflare) vs Node relay");
  // Log level info: each object that wakes from hibernation says so (counted below as proof of eviction).
  const woke = { count: 0 };
  const worker = await startWorkerRelay({
    limits: WORKER_LIMITS,
    log: "info",
    onLog: (line) => {
      if (line.includes("woke from hibernation")) woke.count++;
    },
  });
  const node = await startRelayProc();
  const relays = { node: { base: node.base }, worker: { base: worker.wsUrlBase } };
  const daemons = {};
  try {
    // Memory per idle daemon connection, first: both relays fresh (a stream test leaves garbage to collect).
    const n = quick ? 200 : 1000;
    const workerdPids = descendantsNamed("workerd");
    const workerdRss = () => workerdPids.reduce((sum, pid) => sum + rssOf(pid), 0);
    log(`7: memory of ${n} idle daemons per relay (workerd pids ${workerdPids.join(",") || "not found"})`);
    const mem = {};
    for (const kind of ["node", "worker"]) {
      const rss = kind === "node" ? () => rssOf(node.pid) : workerdRss;
      await sleep(500);
      const before = rss();
      const sockets = await idleDaemons(relays[kind].base, n);
      await sleep(1000);
      const registered = rss();
      mem[kind] = { before, registered, perDaemon: (registered - before) / n };
      if (kind === "worker") {
        // workerd evicts a Durable Object after 10 s without events: with the hibernation API its socket stays open.
        await sleep(12_000);
        mem.worker.afterIdle = rss();
        if (sockets.some((ws) => ws.readyState !== WebSocket.OPEN)) throw new Error("an idle daemon lost its socket");
        // A second batch while the first is hibernated: what one more idle daemon costs once the others are evicted
        // (V8 does not hand freed heap back to the OS, so the first batch's RSS barely drops; the space is reused).
        const second = await idleDaemons(relays.worker.base, n);
        await sleep(1000);
        mem.worker.secondBatch = rss();
        mem.worker.perDaemonWithOthersHibernated = (mem.worker.secondBatch - mem.worker.afterIdle) / n;
        // Proof the first batch was evicted: a harmless RESUME (unknown clientId) from each wakes its object, which
        // logs that it woke from hibernation.
        const wokeBefore = woke.count;
        for (const ws of sockets) ws.send(encodeResume(0));
        const deadline = Date.now() + 20_000;
        while (woke.count - wokeBefore < n && Date.now() < deadline) await sleep(100);
        mem.worker.evictedOfFirstBatch = woke.count - wokeBefore;
        for (const ws of second) ws.terminate();
      }
      for (const ws of sockets) ws.terminate();
    }
    figure(
      "worker.mem.node",
      `Node relay RSS per idle daemon (${n} daemons)`,
      "KiB",
      summarize([mem.node.perDaemon / 1024]),
    );
    figure(
      "worker.mem.worker.awake",
      `workerd RSS per idle daemon, objects in memory (${n})`,
      "KiB",
      summarize([mem.worker.perDaemon / 1024]),
    );
    figure(
      "worker.mem.worker.hibernated",
      `workerd RSS per idle daemon, ${n} more while the first ${n} are hibernated`,
      "KiB",
      summarize([mem.worker.perDaemonWithOthersHibernated / 1024]),
      { evictedOfFirstBatch: mem.worker.evictedOfFirstBatch },
    );
    ratio(
      "worker.mem",
      "RSS per idle daemon, workerd (objects in memory) / Node relay",
      "worker.mem.worker.awake",
      "worker.mem.node",
    );
    ratio(
      "worker.mem.hibernated",
      "RSS per extra idle daemon, workerd (others hibernated) / Node relay",
      "worker.mem.worker.hibernated",
      "worker.mem.node",
    );
    notes.push(
      `section 7: ${mem.worker.evictedOfFirstBatch} of ${n} idle daemons' Durable Objects had been evicted (hibernated) after 12 s idle, their sockets open`,
    );

    for (const kind of ["node", "worker"]) daemons[kind] = await startDaemonProc(relays[kind].base);

    // ls: the CLI's wall time, and the in-process fresh connection (connect + handshake + ls).
    const cliRuns = quick ? 10 : 30;
    const freshRuns = quick ? 100 : 300;
    const cli = { node: [], worker: [] };
    const fresh = { node: [], worker: [] };
    log(`7: paseo ls --relay, ${cliRuns} runs each, interleaved`);
    for (let i = -2; i < cliRuns; i++) {
      for (const kind of i % 2 === 0 ? ["node", "worker"] : ["worker", "node"]) {
        const r = await runNode([CLI, "ls", "--relay", daemons[kind].link]);
        if (r.code !== 0) throw new Error(`paseo ls through the ${kind} relay failed: ${r.out.slice(0, 300)}`);
        if (i >= 0) cli[kind].push(r.ms);
      }
    }
    log(`7: fresh listAgents, ${freshRuns} each, interleaved`);
    for (let i = -10; i < freshRuns; i++) {
      for (const kind of i % 2 === 0 ? ["node", "worker"] : ["worker", "node"]) {
        const client = new DaemonClient({ offer: daemons[kind].relayOffer, connectTimeoutMs: 10_000 });
        const t0 = performance.now();
        try {
          await client.listAgents();
        } finally {
          client.close();
        }
        if (i >= 0) fresh[kind].push(performance.now() - t0);
      }
    }
    figure("worker.ls.cli.node", "paseo ls --relay wall time, Node relay", "ms", summarize(cli.node));
    figure("worker.ls.cli.worker", "paseo ls --relay wall time, Worker relay (workerd)", "ms", summarize(cli.worker));
    figure("worker.ls.fresh.node", "ls, fresh connection, Node relay", "ms", summarize(fresh.node));
    figure("worker.ls.fresh.worker", "ls, fresh connection, Worker relay (workerd)", "ms", summarize(fresh.worker));
    ratio(
      "worker.ls.cli",
      "paseo ls wall time, Worker relay / Node relay",
      "worker.ls.cli.worker",
      "worker.ls.cli.node",
    );
    ratio(
      "worker.ls.fresh",
      "ls fresh connection, Worker relay / Node relay",
      "worker.ls.fresh.worker",
      "worker.ls.fresh.node",
    );

    // Stream throughput through each relay (same peer code as section 3, paseo mode).
    const bytes = quick ? 16 << 20 : 64 << 20;
    const reps = quick ? 3 : 5;
    log(`7: stream throughput, ${bytes >> 20} MiB × ${reps} per relay, interleaved`);
    const rates = { node: [], worker: [] };
    const peers = {};
    for (const kind of ["node", "worker"]) {
      peers[kind] = startNode([join(BENCH_DIR, "peers.js"), "serve", "--relay", relays[kind].base]);
      peers[kind].info = JSON.parse((await peers[kind].waitFor(/PEER READY (\{.*\})/))[1]);
    }
    try {
      for (let rep = -1; rep < reps; rep++) {
        for (const kind of rep % 2 === 0 ? ["node", "worker"] : ["worker", "node"]) {
          const total = rep < 0 ? bytes >> 2 : bytes;
          const r = await withTimeout(
            streamPaseo(relays[kind].base, peers[kind].info, total, MSG_BYTES),
            180_000,
            `stream via ${kind}`,
          );
          if (rep >= 0) rates[kind].push(r.bytes / 1e6 / (r.ms / 1000));
        }
      }
    } finally {
      for (const p of Object.values(peers)) await p.stop();
    }
    figure("worker.stream.node", "stream through the Node relay, paseo (64 KiB msgs)", "MB/s", summarize(rates.node));
    figure(
      "worker.stream.worker",
      "stream through the Worker relay, paseo (64 KiB msgs)",
      "MB/s",
      summarize(rates.worker),
    );
    ratio(
      "worker.stream",
      "stream throughput, Worker relay / Node relay",
      "worker.stream.worker",
      "worker.stream.node",
      {
        value: summarize(rates.worker.map((x, i) => x / rates.node[i])).median,
      },
    );

    details.worker = { idleDaemons: n, memory: mem, ratesMBps: rates, cliMs: cli, freshMs: fresh };
    notes.push(
      "section 7 runs the Worker relay in one local workerd process (miniflare): not Cloudflare's network (no edge, no TLS, no Durable Object placement); on Cloudflare a hibernated object costs no duration, which RSS here cannot show",
    );
  } finally {
    for (const d of Object.values(daemons)) await d.stop();
    await node.stop();
    await worker.close();
  }
}
