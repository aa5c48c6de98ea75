#!/usr/bin/env node
/**
 * `npm run bench` (after `npm run build`): paseo against its anchors and the physical limits, side by side, in one
 * run, on 127.0.0.1, with the relay and the daemon as real processes. Prints one table (ratios first, absolute
 * figures second) and writes bench/results.json.
 *
 *   node bench/run.js [--quick] [--only 1,2,3,4,5,6,7,8] [--out FILE]
 *
 * Sections: 1 `ls` round trips and latency · 2 handshake CPU and AEAD throughput · 3 stream throughput through the
 * relay · 4 relay capacity and forwarding latency · 5 `logs -f` resume time · 6 terminals vs ssh (bench/terminal.js) ·
 * 7 the Worker relay under workerd vs the Node relay (bench/worker-relay.js) · 8 devices: handshake CPU, an enrolled
 * device's ls, fleet ls across 10 daemons (bench/devices.js).
 * Not part of `npm test`: no timing is asserted anywhere; targets are reported as met or missed.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { WebSocket as WsWebSocket } from "ws";
import { DaemonClient } from "../dist/index.js";
import { parseOffer } from "../dist/protocol/offer.js";
import { readLocalOffer } from "../dist/daemon/runtime-files.js";
import { nativeBackend } from "../dist/protocol/crypto/native.js";
import { nobleBackend } from "../dist/protocol/crypto/noble.js";
import {
  BENCH_DIR,
  CLI,
  ROOT,
  cpuMsOf,
  installExitHandlers,
  machineInfo,
  nofileLimit,
  round,
  roundDeep,
  rssOf,
  runNode,
  sleep,
  startNode,
  stopAll,
  summarize,
  tmpDir,
  trackPid,
  untrackPid,
  withTimeout,
} from "./lib.js";
import { benchAead, benchChannel, benchDh, benchHandshake, benchRoundTrip1MiB } from "./cpu.js";
import { streamPaseo, streamPlain, streamRef } from "./peers.js";
import { sectionTerminal } from "./terminal.js";
import { sectionWorker } from "./worker-relay.js";
import { sectionDevices } from "./devices.js";

// ---------------------------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const onlyArg = argv.find((_a, i) => argv[i - 1] === "--only") ?? argv.find((a) => a.startsWith("--only="))?.slice(7);
const ONLY = onlyArg ? new Set(onlyArg.split(",").map((s) => Number(s.trim()))) : new Set([1, 2, 3, 4, 5, 6, 7, 8]);
const OUT = argv.find((_a, i) => argv[i - 1] === "--out") ?? join(BENCH_DIR, "results.json");

const P = QUICK
  ? {
      lsSamples: 200,
      cliRuns: 20,
      handshakes: 200,
      dh: 200,
      aead: { budgetMs: 15, reps: 5 },
      streamBytes: 16 << 20,
      streamReps: 5,
      resumeDrops: 10,
      capacitySteps: [[100, 1000]],
      latencySlices: 4,
      latencySliceSeconds: 0.5,
    }
  : {
      lsSamples: 500,
      cliRuns: 30,
      handshakes: 500,
      dh: 500,
      aead: { budgetMs: 40, reps: 7 },
      streamBytes: 64 << 20,
      streamReps: 7,
      resumeDrops: 30,
      capacitySteps: [
        [100, 1000],
        [500, 5000],
        [1000, 10000],
      ],
      latencySlices: 10,
      latencySliceSeconds: 1,
    };
const MSG_BYTES = 64 * 1024;
const LATENCY_RATE = 5000;
const LATENCY_SENDERS = 100;

// Relay admission limits are raised for the benchmark (fresh connection per sample, thousands of idle sockets from
// one IP); they only gate admission, the forwarding path is the same as with the defaults.
const RELAY_FLAGS = ["--per-ip-max-connections", "1000000", "--per-ip-rate", "1000000", "--log-level", "warn"];

// ---------------------------------------------------------------------------------------------------------------
// Result bookkeeping: figures (median/p99 of samples) and ratios (with targets).

const figures = {};
const ratios = [];
const details = {};
const notes = [];

function figure(id, label, unit, stats, extra = {}) {
  figures[id] = { label, unit, n: stats.n, median: stats.median, p99: stats.p99, ...extra };
  return figures[id];
}

/**
 * A ratio row: `value` = a / b, compared to `target` with `op` ("<=" or ">="). `a`/`b` name figure ids (or
 * literal { label, median, p99, unit } objects for anchors that cannot be run here).
 */
function ratio(id, label, a, b, { target, op, invert = false, note, value: given } = {}) {
  const fa = typeof a === "string" ? figures[a] : a;
  const fb = typeof b === "string" ? figures[b] : b;
  const value = given ?? (invert ? fb.median / fa.median : fa.median / fb.median);
  const met = target === undefined ? null : op === "<=" ? value <= target : value >= target;
  ratios.push({
    id,
    label,
    value,
    target: target ?? null,
    op: op ?? null,
    met,
    a: typeof a === "string" ? a : fa.label,
    b: typeof b === "string" ? b : fb.label,
    note,
  });
}

const log = (msg) => process.stderr.write(`[bench ${((performance.now() - START) / 1000).toFixed(1)}s] ${msg}\n`);
const START = performance.now();

// ---------------------------------------------------------------------------------------------------------------
// Infrastructure: relay + daemon processes

async function startRelayProc(extra = []) {
  const relay = startNode([CLI, "relay", "--host", "127.0.0.1", "--port", "0", ...RELAY_FLAGS, ...extra]);
  const m = await relay.waitFor(/relay endpoint for offers: (\S+)/);
  return Object.assign(relay, { endpoint: m[1], base: `ws://${m[1]}` });
}

async function startDaemonProc(relayBase) {
  const home = tmpDir("paseo-bench-home-");
  const daemon = startNode(
    [CLI, "daemon", "start", "--home", home, "--no-qr", "--relay", relayBase, "--log-level", "warn"],
    {
      env: { PASEO_HOME: home },
    },
  );
  await daemon.waitFor(/is running/, 20_000);
  const link = daemon.output().match(/(https?:\/\/\S+#offer=[A-Za-z0-9_-]+)/)?.[1];
  if (!link) throw new Error(`daemon printed no pairing link:\n${daemon.output()}`);
  const localOffer = await readLocalOffer(home);
  if (!localOffer) throw new Error("daemon wrote no local offer");
  return Object.assign(daemon, { home, link, relayOffer: parseOffer(link), localOffer });
}

/** A `ws` WebSocket subclass that records open/send/message times (the round-trip counter of section 1). */
function recordingWebSocket(sink) {
  return class RecordingWebSocket extends WsWebSocket {
    constructor(url) {
      super(url);
      const rec = { ws: this, created: performance.now(), events: [] };
      this.rec = rec;
      sink.push(rec);
      this.on("open", () => rec.events.push({ t: performance.now(), kind: "open" }));
      this.on("message", (data) =>
        rec.events.push({ t: performance.now(), kind: "recv", bytes: data.length ?? data.byteLength }),
      );
    }
    send(data, ...rest) {
      this.rec.events.push({ t: performance.now(), kind: "send", bytes: data.length ?? data.byteLength });
      return super.send(data, ...rest);
    }
  };
}

/**
 * Client-side round trips from socket open to the answer: the number of send → receive turns (a receive that
 * follows at least one send since the previous receive). Events after `until` (the answer) are ignored.
 */
function countTurns(events, until) {
  let turns = 0;
  let pending = false;
  let opened = false;
  for (const e of events) {
    if (e.t > until) break;
    if (e.kind === "open") opened = true;
    else if (!opened) continue;
    else if (e.kind === "send") pending = true;
    else if (e.kind === "recv" && pending) {
      turns++;
      pending = false;
    }
  }
  return turns;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 1: ls round trips and latency

async function sectionLs(daemon) {
  log("1: ls round trips and latency (in-process client, fresh connections)");
  const paths = { relay: daemon.relayOffer, direct: daemon.localOffer };
  const fresh = { relay: [], direct: [] };
  const turns = { relay: [], direct: [] };
  const wire = { relay: [], direct: [] };
  const n = P.lsSamples;
  let agentsSeen = 0;
  const failures = [];
  for (let i = -10; i < n; i++) {
    const order = i % 2 === 0 ? ["relay", "direct"] : ["direct", "relay"];
    for (const path of order) {
      const recs = [];
      const client = new DaemonClient({
        offer: paths[path],
        WebSocket: recordingWebSocket(recs),
        connectTimeoutMs: 10_000,
      });
      const t0 = performance.now();
      let agents;
      try {
        agents = await client.listAgents();
      } catch (err) {
        // A failed sample is reported (with what the socket saw), never silently dropped or retried.
        const ev = recs[0]?.events ?? [];
        failures.push({
          path,
          sample: i,
          error: String(err?.message ?? err),
          afterMs: performance.now() - t0,
          socket: ev
            .map((e) => `${e.kind}${e.bytes !== undefined ? `(${e.bytes})` : ""}@${(e.t - t0).toFixed(1)}`)
            .join(" "),
        });
        client.close();
        continue;
      }
      const t1 = performance.now();
      client.close();
      agentsSeen = agents.length;
      if (i < 0) continue; // warm-up
      fresh[path].push(t1 - t0);
      const rec = recs[0];
      turns[path].push(countTurns(rec.events, t1));
      const before = rec.events.filter((e) => e.t <= t1);
      wire[path].push({
        sends: before.filter((e) => e.kind === "send").length,
        recvs: before.filter((e) => e.kind === "recv").length,
        openMs: (before.find((e) => e.kind === "open")?.t ?? NaN) - t0,
      });
    }
  }
  const rtRelay = summarize(turns.relay);
  const rtDirect = summarize(turns.direct);
  figure("ls.rt.relay", "ls round trips, socket open → answer (relay)", "RT", rtRelay, { max: rtRelay.max });
  figure("ls.rt.direct", "ls round trips, socket open → answer (direct)", "RT", rtDirect, { max: rtDirect.max });
  figure("ls.fresh.relay", "ls, fresh connection (connect+handshake+ls), relay", "ms", summarize(fresh.relay));
  figure("ls.fresh.direct", "ls, fresh connection (connect+handshake+ls), direct", "ms", summarize(fresh.direct));
  figure(
    "ls.open.relay",
    "  of which: WebSocket open (TCP + HTTP upgrade), relay",
    "ms",
    summarize(wire.relay.map((w) => w.openMs)),
  );
  figure(
    "ls.open.direct",
    "  of which: WebSocket open (TCP + HTTP upgrade), direct",
    "ms",
    summarize(wire.direct.map((w) => w.openMs)),
  );

  log("1: ls on established connections");
  const est = { relay: [], direct: [] };
  const clients = {};
  for (const path of ["relay", "direct"]) {
    clients[path] = new DaemonClient({ offer: paths[path], connectTimeoutMs: 10_000 });
    await clients[path].connect();
  }
  try {
    for (let i = -20; i < n; i++) {
      const order = i % 2 === 0 ? ["relay", "direct"] : ["direct", "relay"];
      for (const path of order) {
        const t0 = performance.now();
        await clients[path].listAgents();
        if (i >= 0) est[path].push(performance.now() - t0);
      }
    }
  } finally {
    for (const c of Object.values(clients)) c.close();
  }
  figure("ls.est.relay", "ls on an established connection, relay", "ms", summarize(est.relay));
  figure("ls.est.direct", "ls on an established connection, direct", "ms", summarize(est.direct));

  log(`1: CLI wall time, ${P.cliRuns} runs each, interleaved`);
  const cli = { relay: [], direct: [], version: [], node: [] };
  const cliArgs = {
    relay: [CLI, "ls", "--relay", daemon.link],
    direct: [CLI, "ls", "--home", daemon.home],
    version: [CLI, "--version"],
    node: ["-e", "0"],
  };
  for (let i = -2; i < P.cliRuns; i++) {
    // Every path once per round, in a rotating order, so that load drift hits all of them alike; the "above node"
    // rows below are medians of per-round differences (one round's runs are back to back).
    const paths = Object.keys(cli);
    const order = paths.map((_, k) => paths[(k + i + 2) % paths.length]);
    for (const path of order) {
      const r = await runNode(cliArgs[path]);
      if (r.code !== 0)
        throw new Error(`paseo ${cliArgs[path].slice(1, 3).join(" ")} exited ${r.code}: ${r.out.slice(-500)}`);
      if (i >= 0) cli[path].push(r.ms);
    }
  }
  figure("cli.relay", "`paseo ls --relay <link>` process wall time", "ms", summarize(cli.relay));
  figure("cli.direct", "`paseo ls --home DIR` (direct) process wall time", "ms", summarize(cli.direct));
  figure("cli.version", "`paseo --version` process wall time", "ms", summarize(cli.version));
  figure("cli.node", "`node -e 0` process wall time (floor)", "ms", summarize(cli.node));
  const aboveNode = (path) => summarize(cli[path].map((ms, k) => ms - cli.node[k]));
  figure("cli.relay.own", "`paseo ls --relay <link>` − `node -e 0`, per round", "ms", aboveNode("relay"));
  figure("cli.version.own", "`paseo --version` − `node -e 0`, per round", "ms", aboveNode("version"));

  const anchorRt = {
    label: "closest existing system: ls over its relay (cited, not run here)",
    median: 4,
    p99: 4,
    unit: "RT",
  };
  ratio("ls.rt", "ls round trips over the relay: anchor (4 RT) / paseo", "ls.rt.relay", anchorRt, {
    target: 4,
    op: ">=",
    invert: true,
    note: "target: 1 RT via early data",
  });
  ratio("ls.cli", "CLI `ls` wall time, relay / direct", "cli.relay", "cli.direct", { target: 1.15, op: "<=" });
  // Differences, not ratios: the targets are the CLI's own cost on top of starting Node (issue 12, "CLI speed").
  ratio("cli.relay.own", "CLI `ls --relay` wall time above `node -e 0` (ms)", "cli.relay.own", "cli.node", {
    target: 50,
    op: "<=",
    value: figures["cli.relay.own"].median,
  });
  ratio("cli.version.own", "CLI `--version` wall time above `node -e 0` (ms)", "cli.version.own", "cli.node", {
    target: 15,
    op: "<=",
    value: figures["cli.version.own"].median,
  });
  ratio(
    "ls.cli.net",
    "CLI `ls` wall time above node startup, relay / direct",
    { label: "relay − node", median: figures["cli.relay"].median - figures["cli.node"].median },
    { label: "direct − node", median: figures["cli.direct"].median - figures["cli.node"].median },
  );
  ratio("ls.fresh", "ls fresh connection, relay / direct", "ls.fresh.relay", "ls.fresh.direct");
  ratio("ls.est", "ls established connection, relay / direct", "ls.est.relay", "ls.est.direct");
  details.ls = { agentsListed: agentsSeen, wireSample: { relay: wire.relay[0], direct: wire.direct[0] }, failures };
  for (const f of failures)
    notes.push(
      `ls fresh connection FAILED (${f.path}, sample ${f.sample}): ${f.error} after ${f.afterMs.toFixed(0)} ms; socket saw: ${f.socket}`,
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Section 2: CPU

function sectionCpu() {
  log(`2: handshake CPU per side (${P.handshakes} each, native and noble)`);
  const hs = {};
  for (const backend of [nativeBackend, nobleBackend]) {
    hs[backend.name] = benchHandshake(backend, P.handshakes);
    figure(
      `hs.${backend.name}.client`,
      `handshake CPU, client side (hello + readReply), ${backend.name}`,
      "ms",
      hs[backend.name].client,
    );
    figure(
      `hs.${backend.name}.server`,
      `handshake CPU, daemon side (readHello + reply), ${backend.name}`,
      "ms",
      hs[backend.name].server,
    );
    const c = hs[backend.name].cpuPerHandshakeMs;
    figure(
      `hs.${backend.name}.cpuTotal`,
      `  cross-check: process CPU per full handshake (both sides, mean), ${backend.name}`,
      "ms",
      { n: P.handshakes, median: c, p99: NaN },
    );
  }
  log("2: X25519 per backend vs tweetnacl");
  const dh = benchDh(P.dh);
  figure("dh.native", "one X25519, native", "ms", dh.native);
  figure("dh.noble", "one X25519, noble", "ms", dh.noble);
  figure("dh.tweetnacl", "one X25519, tweetnacl (anchor's pure JS)", "ms", dh.tweetnacl);
  figure("keygen.native", "X25519 key generation, native", "ms", dh.nativeKeygen);
  figure("keygen.noble", "X25519 key generation, noble", "ms", dh.nobleKeygen);

  const oneMs = { label: "target 1 ms", median: 1, p99: 1, unit: "ms" };
  ratio("hs.native.client", "handshake CPU client side, native / 1 ms target", "hs.native.client", oneMs, {
    target: 1,
    op: "<=",
  });
  ratio("hs.native.server", "handshake CPU daemon side, native / 1 ms target", "hs.native.server", oneMs, {
    target: 1,
    op: "<=",
  });
  ratio("hs.noble.vs.native", "handshake CPU daemon side, noble / native", "hs.noble.server", "hs.native.server");
  ratio("dh.tweetnacl.vs.native", "X25519: tweetnacl / native (anchor is slower by)", "dh.tweetnacl", "dh.native");
  ratio("dh.tweetnacl.vs.noble", "X25519: tweetnacl / noble", "dh.tweetnacl", "dh.noble");

  log("2: AEAD throughput (200 B / 4 KiB / 64 KiB)");
  const aead = benchAead(P.aead);
  for (const [size, row] of Object.entries(aead)) {
    for (const [impl, { seal, open }] of Object.entries(row)) {
      const name =
        impl === "raw"
          ? "raw node:crypto chacha20-poly1305"
          : impl === "reference"
            ? "reference tweetnacl secretbox+base64"
            : `${impl} backend`;
      figure(`aead.${size}.${impl}.seal`, `seal ${size} B, ${name}`, "MB/s", seal);
      figure(`aead.${size}.${impl}.open`, `open ${size} B, ${name}`, "MB/s", open);
    }
    for (const dir of ["seal", "open"]) {
      ratio(
        `aead.${size}.native.${dir}`,
        `AEAD ${dir} ${size} B: native / raw node:crypto`,
        `aead.${size}.native.${dir}`,
        `aead.${size}.raw.${dir}`,
      );
      ratio(
        `aead.${size}.noble.${dir}`,
        `AEAD ${dir} ${size} B: noble / raw node:crypto`,
        `aead.${size}.noble.${dir}`,
        `aead.${size}.raw.${dir}`,
      );
    }
    ratio(
      `aead.${size}.native.vs.ref`,
      `AEAD seal ${size} B: native / reference framing`,
      `aead.${size}.native.seal`,
      `aead.${size}.reference.seal`,
    );
  }
  log("2: SecureChannel 64 KiB messages");
  const ch = benchChannel(P.aead);
  figure("channel.encrypt", "SecureChannel.encrypt, 64 KiB messages (native)", "MB/s", ch.encrypt);
  figure("channel.roundtrip", "SecureChannel encrypt→decrypt, 64 KiB messages (native)", "MB/s", ch.encryptDecrypt);
  log("2: 1 MiB seal+open round trip (the anchor's headline figure), in memory");
  const rt = benchRoundTrip1MiB(P.aead);
  figure("rt1m.paseo", "1 MiB message seal+open in memory, paseo SecureChannel", "MB/s", rt.paseo);
  figure("rt1m.ref", "1 MiB message seal+open in memory, reference secretbox+base64", "MB/s", rt.reference);
  ratio("rt1m", "1 MiB seal+open round trip, paseo / reference (anchor ~19 MB/s)", "rt1m.paseo", "rt1m.ref");
  details.cpu = { handshake: hs, dh };
}

// ---------------------------------------------------------------------------------------------------------------
// Section 3: stream throughput through the relay

async function sectionStream(relay) {
  log(`3: stream throughput through the relay, ${P.streamBytes >> 20} MiB in 64 KiB messages`);
  const peer = startNode([join(BENCH_DIR, "peers.js"), "serve", "--relay", relay.base]);
  try {
    const info = JSON.parse((await peer.waitFor(/PEER READY (\{.*\})/))[1]);
    const modes = { plain: streamPlain, paseo: streamPaseo, ref: streamRef };
    const rates = { plain: [], paseo: [], ref: [] };
    const relayCpu = { plain: [], paseo: [], ref: [] };
    const peerCpu = { plain: [], paseo: [], ref: [] };
    const clientCpu = { plain: [], paseo: [], ref: [] };
    const overhead = {};
    // Warm-up pass (JIT, socket buffers) with a quarter of the volume, then interleaved reps.
    for (let rep = -1; rep < P.streamReps; rep++) {
      const order = rep % 2 === 0 ? ["plain", "paseo", "ref"] : ["ref", "paseo", "plain"];
      for (const mode of order) {
        const bytes = rep < 0 ? P.streamBytes >> 2 : P.streamBytes;
        const c0 = cpuMsOf(relay.pid);
        const p0 = cpuMsOf(peer.pid);
        const u0 = process.cpuUsage();
        const r = await withTimeout(modes[mode](relay.base, info, bytes, MSG_BYTES), 180_000, `stream ${mode}`);
        const u = process.cpuUsage(u0);
        if (rep < 0) continue;
        rates[mode].push(r.bytes / 1e6 / (r.ms / 1000));
        clientCpu[mode].push((u.user + u.system) / 1000 / (r.bytes / 2 ** 20));
        relayCpu[mode].push((cpuMsOf(relay.pid) - c0) / (r.bytes / 2 ** 20));
        peerCpu[mode].push((cpuMsOf(peer.pid) - p0) / (r.bytes / 2 ** 20));
        overhead[mode] = r.wireBytes / r.bytes;
      }
    }
    figure("stream.paseo", "stream through relay, paseo SecureChannel (64 KiB msgs)", "MB/s", summarize(rates.paseo), {
      wireOverhead: overhead.paseo,
    });
    figure("stream.plain", "stream through relay, plaintext ws (physical limit)", "MB/s", summarize(rates.plain), {
      wireOverhead: overhead.plain,
    });
    figure("stream.ref", "stream through relay, reference secretbox+base64", "MB/s", summarize(rates.ref), {
      wireOverhead: overhead.ref,
    });
    for (const mode of Object.keys(rates)) {
      figure(`stream.${mode}.relayCpu`, `relay CPU per MiB forwarded, ${mode}`, "ms/MiB", summarize(relayCpu[mode]));
      figure(`stream.${mode}.peerCpu`, `receiving peer CPU per MiB, ${mode}`, "ms/MiB", summarize(peerCpu[mode]));
      figure(`stream.${mode}.clientCpu`, `sending client CPU per MiB, ${mode}`, "ms/MiB", summarize(clientCpu[mode]));
    }
    // Ratios per rep (the modes of one rep ran back to back), then the median: robust to slow load drift.
    const paired = (a, b) => summarize(rates[a].map((x, i) => x / rates[b][i])).median;
    ratio(
      "stream.vs.plain",
      "stream throughput, paseo / plaintext over the same relay",
      "stream.paseo",
      "stream.plain",
      { target: 0.6, op: ">=", value: paired("paseo", "plain") },
    );
    ratio("stream.vs.ref", "stream throughput, paseo / reference framing", "stream.paseo", "stream.ref", {
      target: 10,
      op: ">=",
      value: paired("paseo", "ref"),
    });
    ratio(
      "stream.plain.vs.ref",
      "stream throughput, plaintext / reference framing (ceiling of the above)",
      "stream.plain",
      "stream.ref",
      { value: paired("plain", "ref") },
    );
    details.stream = { wireOverhead: overhead, messageBytes: MSG_BYTES, totalBytes: P.streamBytes, ratesMBps: rates };
  } finally {
    await peer.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Section 5: logs -f resume

async function sectionResume(daemon, agentId) {
  log(`5: logs -f resume after a dropped socket (${P.resumeDrops} drops per path)`);
  const paths = { relay: daemon.relayOffer, direct: daemon.localOffer };
  const out = {};
  for (const path of ["relay", "direct"]) {
    const recs = [];
    const client = new DaemonClient({
      offer: paths[path],
      WebSocket: recordingWebSocket(recs),
      reconnect: { minMs: 250, maxMs: 2000 },
      connectTimeoutMs: 10_000,
    });
    const controller = new AbortController();
    let onChunk = () => {};
    let lastSeq = 0;
    let chunks = 0;
    const start = (await client.getAgent(agentId)).nextSeq;
    const reader = (async () => {
      for await (const chunk of client.logs(agentId, { follow: true, since: start, signal: controller.signal })) {
        lastSeq = chunk.seq;
        chunks++;
        onChunk(chunk);
        if (controller.signal.aborted) break;
      }
    })();
    const nextChunk = (pred = () => true, ms = 15_000) =>
      withTimeout(
        new Promise((res) => {
          onChunk = (c) => {
            if (pred(c)) {
              onChunk = () => {};
              res({ t: performance.now(), seq: c.seq });
            }
          };
        }),
        ms,
        "waiting for a log chunk",
      );
    const gaps = [];
    const parts = { close: [], open: [], reply: [] };
    try {
      await nextChunk();
      for (let i = -2; i < P.resumeDrops; i++) {
        await sleep(60);
        await nextChunk();
        const before = recs.length;
        const victim = recs[recs.length - 1];
        const seqBefore = lastSeq;
        const t0 = performance.now();
        victim.ws.terminate();
        // The first chunk that arrives after a new socket exists was delivered by the new session.
        const got = await nextChunk(() => recs.length > before);
        if (got.seq !== seqBefore + 1 && got.seq <= seqBefore) throw new Error(`resume repeated chunk ${got.seq}`);
        if (i < 0) continue;
        gaps.push(got.t - t0);
        const fresh = recs[recs.length - 1];
        const opened = fresh.events.find((e) => e.kind === "open")?.t;
        const reply = fresh.events.find((e) => e.kind === "recv")?.t;
        parts.open.push(opened - fresh.created);
        parts.reply.push(reply - opened);
        parts.close.push(fresh.created - t0);
      }
    } finally {
      controller.abort();
      client.close();
      await Promise.race([reader.catch(() => {}), sleep(1000)]);
    }
    figure(`resume.${path}`, `logs -f: socket dropped → first resumed chunk, ${path}`, "ms", summarize(gaps));
    figure(
      `resume.${path}.detect`,
      `  of which: drop noticed → new socket created, ${path}`,
      "ms",
      summarize(parts.close),
    );
    figure(`resume.${path}.open`, `  of which: new socket → open, ${path}`, "ms", summarize(parts.open));
    figure(`resume.${path}.handshake`, `  of which: open → handshake reply, ${path}`, "ms", summarize(parts.reply));
    out[path] = { chunksSeen: chunks };
  }
  ratio("resume", "logs -f resume time, relay / direct", "resume.relay", "resume.direct");
  details.resume = out;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 4: relay capacity and forwarding latency

function ipcClient(child) {
  let nextId = 1;
  const pending = new Map();
  child.proc.on("message", (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.res(msg.result);
    else p.rej(new Error(msg.error));
  });
  child.exited.then(() => {
    for (const p of pending.values()) p.rej(new Error(`loadgen exited:\n${child.output().slice(-1000)}`));
    pending.clear();
  });
  return (cmd, args = {}, timeoutMs = 120_000) =>
    withTimeout(
      new Promise((res, rej) => {
        const id = nextId++;
        pending.set(id, { res, rej });
        child.proc.send({ id, cmd, ...args });
      }),
      timeoutMs,
      `loadgen ${cmd}`,
    );
}

async function sectionCapacity() {
  const limit = nofileLimit();
  const wanted = P.capacitySteps[P.capacitySteps.length - 1];
  // The relay needs one fd per connection, and so does the load generator (same limit, inherited).
  const fdBudget = Number.isFinite(limit.soft) ? limit.soft - 500 : Infinity;
  let steps = P.capacitySteps.filter(([d, c]) => d + c <= fdBudget);
  const cap = {
    requested: wanted,
    ulimitNofile: limit,
    steps: [],
    stoppedAt: null,
    fdLimited: steps.length < P.capacitySteps.length,
  };
  if (cap.fdLimited) {
    notes.push(`ulimit -n is ${limit.soft}: capacity steps above ${fdBudget} connections per process were skipped`);
    if (steps.length === 0) steps = [[Math.floor(fdBudget / 11), Math.floor((fdBudget * 10) / 11)]];
  }
  log(`4: relay capacity, steps ${steps.map(([d, c]) => `${d}/${c}`).join(" → ")}`);
  const relay = await startRelayProc();
  const echo = startNode([join(BENCH_DIR, "loadgen.js"), "echo"]);
  const loadgen = startNode([join(BENCH_DIR, "loadgen.js")], { ipc: true });
  const call = ipcClient(loadgen);
  try {
    const echoPort = Number((await echo.waitFor(/ECHO PORT (\d+)/))[1]);
    await call("init", { relay: relay.base });
    await sleep(500);
    const rss0 = rssOf(relay.pid);
    cap.relayRssIdle = rss0;
    for (const [d, c] of steps) {
      const dr = await call("daemons", { count: d });
      const cr = await call("clients", { count: c });
      await sleep(1000);
      const st = await call("status");
      const rss = rssOf(relay.pid);
      const conns = st.daemonsReady + st.clientsOpen;
      const step = {
        daemons: st.daemonsReady,
        clients: st.clientsOpen,
        attached: st.attached,
        connections: conns,
        relayRss: rss,
        bytesPerConnection: (rss - rss0) / Math.max(1, conns),
        daemonConnectMs: dr.ms,
        clientConnectMs: cr.ms,
        failures: dr.failed + cr.failed,
        firstError: dr.firstError ?? cr.firstError ?? null,
        unexpectedCloses: st.unexpectedCloses,
        loadgenRss: st.rss,
      };
      cap.steps.push(step);
      log(
        `4: ${step.daemons} daemons / ${step.clients} clients (attached ${step.attached}): relay RSS ${(rss / 2 ** 20).toFixed(1)} MiB`,
      );
      if (step.failures > 0 || step.daemons < d || step.clients < c || step.attached < c) {
        cap.stoppedAt = { requested: [d, c], reached: [step.daemons, step.clients], error: step.firstError };
        notes.push(
          `capacity: stopped at ${d}/${c}: reached ${step.daemons} daemons / ${step.clients} clients (${step.firstError ?? "attach incomplete"})`,
        );
        break;
      }
    }
    const last = cap.steps[cap.steps.length - 1];
    figure(
      "cap.rss",
      `relay RSS with ${last.daemons} daemons + ${last.clients} idle clients`,
      "MiB",
      { n: 1, median: last.relayRss / 2 ** 20, p99: last.relayRss / 2 ** 20 },
      { connections: last.connections },
    );
    figure("cap.bytesPerConn", "relay RSS per connection (above the idle relay)", "KiB", {
      n: 1,
      median: last.bytesPerConnection / 1024,
      p99: last.bytesPerConnection / 1024,
    });
    // Extrapolate linearly to 11,000 connections when the full count was not run (quick mode / fd limit).
    const at11k = (rss0 + 11000 * last.bytesPerConnection) / 2 ** 30;
    ratio(
      "cap.rss",
      `relay RSS at 11,000 connections${last.connections < 11000 ? ` (extrapolated from ${last.connections})` : ""} / 1 GiB`,
      { label: "RSS GiB", median: last.connections >= 11000 ? last.relayRss / 2 ** 30 : at11k },
      { label: "1 GiB", median: 1 },
      { target: 1, op: "<=" },
    );

    log(
      `4: forwarding latency at ${LATENCY_RATE} msg/s (${P.latencySlices} × ${P.latencySliceSeconds} s slices per path, alternating)`,
    );
    const lat = { relay: [], echo: [] };
    const runs = [];
    let relayCpuMs = 0;
    let relaySeconds = 0;
    // Short alternating slices, so that bursts of background load on a shared machine hit both paths alike.
    for (let r = -1; r < P.latencySlices; r++) {
      for (const path of r % 2 === 0 ? ["echo", "relay"] : ["relay", "echo"]) {
        const c0 = cpuMsOf(relay.pid);
        const t0 = performance.now();
        const seconds = r < 0 ? 0.3 : P.latencySliceSeconds; // r = -1: warm-up
        const res = await call(
          "latency",
          { path, rate: LATENCY_RATE, seconds, senders: LATENCY_SENDERS, echoPort },
          60_000,
        );
        if (r < 0) continue;
        if (path === "relay") {
          relayCpuMs += cpuMsOf(relay.pid) - c0;
          relaySeconds += (performance.now() - t0) / 1000;
        }
        runs.push({
          path,
          sent: res.sent,
          received: res.received,
          achievedRate: res.achievedRate,
          oneWayMs: res.oneWayMs,
        });
        for (const x of res.samples) lat[path].push(x);
      }
    }
    const relayLat = summarize(lat.relay);
    const echoLat = summarize(lat.echo);
    figure(
      "lat.relay",
      `client → relay → daemon one-way at ${LATENCY_RATE} msg/s (with all idle connections)`,
      "ms",
      relayLat,
    );
    figure("lat.echo", `baseline: client → plain ws echo process → client at ${LATENCY_RATE} msg/s`, "ms", echoLat);
    figure("lat.added", "latency added by the relay (relay − echo baseline)", "ms", {
      n: relayLat.n,
      median: relayLat.median - echoLat.median,
      p99: relayLat.p99 - echoLat.p99,
    });
    figure("lat.relayCpu", `relay CPU at ${LATENCY_RATE} msg/s`, "% of a core", {
      n: 1,
      median: (100 * relayCpuMs) / 1000 / relaySeconds,
      p99: NaN,
    });
    const lost = runs.reduce((s, x) => s + (x.sent - x.received), 0);
    if (lost > 0) notes.push(`forwarding latency: ${lost} messages not received within 2 s of the end of their slice`);
    ratio(
      "lat.added.p99",
      "relay-added forwarding latency p99 / 1 ms",
      { label: "added p99", median: relayLat.p99 - echoLat.p99 },
      { label: "1 ms", median: 1 },
      { target: 1, op: "<=" },
    );
    ratio(
      "lat.added.p50",
      "relay-added forwarding latency p50 / 1 ms",
      { label: "added p50", median: relayLat.median - echoLat.median },
      { label: "1 ms", median: 1 },
      { target: 1, op: "<=" },
    );
    ratio("lat.relay.vs.echo", "forwarding latency p50, relay / plain ws echo", "lat.relay", "lat.echo");
    cap.latencyRuns = runs;
    details.capacity = cap;
  } finally {
    await call("close", {}, 5000).catch(() => {});
    await Promise.all([loadgen.stop(), echo.stop(), relay.stop()]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function fmt(x, unit) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  const s =
    a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : a >= 10 ? x.toFixed(2) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
  return unit ? `${s} ${unit}` : s;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function renderTable() {
  const lines = [];
  const W = [74, 9, 9, 6];
  lines.push(`${pad("ratio", W[0])} ${pad("value", W[1])} ${pad("target", W[2])} ${pad("met", W[3])}`);
  lines.push("-".repeat(W[0] + W[1] + W[2] + W[3] + 3));
  for (const r of ratios) {
    const target = r.target === null ? "" : `${r.op} ${r.target}`;
    const met = r.met === null ? "" : r.met ? "yes" : "NO";
    lines.push(`${pad(r.label, W[0])} ${pad(fmt(r.value), W[1])} ${pad(target, W[2])} ${pad(met, W[3])}`);
  }
  lines.push("");
  const F = [70, 14, 14, 6];
  lines.push(`${pad("absolute figure", F[0])} ${pad("median", F[1])} ${pad("p99", F[2])} ${pad("n", F[3])}`);
  lines.push("-".repeat(F[0] + F[1] + F[2] + F[3] + 3));
  for (const f of Object.values(figures)) {
    lines.push(
      `${pad(f.label, F[0])} ${pad(fmt(f.median, f.unit), F[1])} ${pad(fmt(f.p99, f.unit), F[2])} ${pad(f.n, F[3])}`,
    );
  }
  return lines.join("\n");
}

/** JSON with 2-space indentation, but objects/arrays of primitives on one line (keeps results.json readable). */
function compactJson(value, indent = "") {
  const flat = (v) => v === null || typeof v !== "object";
  if (flat(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every(flat)) return JSON.stringify(value).replace(/,/g, ", ");
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.every(([, v]) => flat(v) || (Array.isArray(v) && v.every(flat) && v.length <= 8))) {
    return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${compactJson(v)}`).join(", ")} }`;
  }
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

function gitCommit() {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
    return `${sha}${dirty ? " (src/ has uncommitted changes)" : ""}`;
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  installExitHandlers();
  const machine = machineInfo();
  const meta = {
    command: (process.env.npm_lifecycle_event === "bench"
      ? `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`
      : `node bench/run.js ${argv.join(" ")}`
    ).trim(),
    mode: QUICK ? "quick" : "full",
    sections: [...ONLY].sort(),
    commit: gitCommit(),
    machine,
  };
  log(
    `mode ${meta.mode}, node ${process.version}, ${machine.cpus} × ${machine.cpuModel}, load ${machine.loadAvgAtStart.join(" ")}`,
  );
  let failure;
  let relay;
  let daemon;
  const agentIds = [];
  try {
    if (ONLY.has(2)) sectionCpu();
    if (ONLY.has(1) || ONLY.has(3) || ONLY.has(5)) {
      relay = await startRelayProc();
      daemon = await startDaemonProc(relay.base);
      // A few idle agents, so `ls` returns a realistic list. The ticker (prints every 5 ms) runs only for section 5,
      // so its output does not load the machine during the other measurements.
      const admin = new DaemonClient({ offer: daemon.localOffer });
      try {
        for (let i = 0; i < 3; i++) {
          const a = await admin.runAgent({
            argv: [process.execPath, "-e", "setInterval(() => {}, 1e6)"],
            name: `idle-${i}`,
          });
          trackPid(-a.pid);
          agentIds.push(a);
        }
      } finally {
        admin.close();
      }
      if (ONLY.has(1)) await sectionLs(daemon);
      if (ONLY.has(3)) await sectionStream(relay);
      if (ONLY.has(5)) {
        const admin = new DaemonClient({ offer: daemon.localOffer });
        try {
          const ticker = await admin.runAgent({
            argv: [
              process.execPath,
              "-e",
              // biome-ignore lint/suspicious/noTemplateCurlyInString: this string is JS source for the child; its template literal is meant
              "let i = 0; setInterval(() => process.stdout.write(`tick ${i++} ${Date.now()}\\n`), 5)",
            ],
            name: "ticker",
          });
          trackPid(-ticker.pid);
          agentIds.push(ticker);
        } finally {
          admin.close();
        }
        await sectionResume(daemon, agentIds[agentIds.length - 1].id);
      }
      const admin2 = new DaemonClient({ offer: daemon.localOffer });
      try {
        for (const a of agentIds) {
          await admin2.stopAgent(a.id, { graceMs: 500 }).catch(() => {});
          untrackPid(-a.pid);
        }
      } finally {
        admin2.close();
      }
      await daemon.stop();
      await relay.stop();
    }
    if (ONLY.has(4)) await sectionCapacity();
    if (ONLY.has(6))
      await sectionTerminal({
        quick: QUICK,
        figures,
        figure,
        ratio,
        notes,
        details,
        log,
        startRelayProc,
        startDaemonProc,
      });
    if (ONLY.has(7))
      await sectionWorker({ quick: QUICK, figure, ratio, notes, details, log, startRelayProc, startDaemonProc });
    if (ONLY.has(8))
      await sectionDevices({
        quick: QUICK,
        figure,
        ratio,
        log,
        startRelayProc,
        startDaemonProc,
        recordingWebSocket,
        countTurns,
      });
  } catch (err) {
    failure = err;
    log(`FAILED: ${err?.stack ?? err}`);
  } finally {
    await stopAll();
  }
  meta.machine.loadAvgAtEnd = os.loadavg().map((x) => round(x, 2));
  meta.durationSec = round((performance.now() - START) / 1000, 1);
  const table = renderTable();
  process.stdout.write(
    `\npaseo bench — ${meta.mode} — ${machine.date} — node ${machine.node} — ${machine.cpus} × ${machine.cpuModel}\n`,
  );
  process.stdout.write(
    `load average at start ${machine.loadAvgAtStart.join(" ")}, at end ${meta.machine.loadAvgAtEnd.join(" ")}; ${meta.durationSec} s\n\n`,
  );
  process.stdout.write(`${table}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  if (failure) process.stdout.write(`\nbench FAILED: ${failure.message}\n`);
  const results = roundDeep({
    meta,
    ratios,
    figures,
    details,
    notes,
    failure: failure ? String(failure.message ?? failure) : null,
  });
  writeFileSync(OUT, `${compactJson(results)}\n`);
  process.stdout.write(`\nwrote ${OUT}\n`);
  process.exitCode = failure ? 1 : 0;
}

await main();
