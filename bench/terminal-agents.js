/**
 * Section 6 (terminals), the probes that look at agents rather than at a client: memory per idle terminal agent and
 * attach time against the length of the history. Plus the payload file the throughput probe prints.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { rssOf, sleep, summarize } from "./lib.js";

export const BASH = ["bash", "--norc", "--noprofile"];
export const PROMPT = "$ ";

/** A file of exactly `bytes` bytes of base64 text in 76-column lines (what a busy terminal program prints). */
export function makePayload(path, bytes) {
  const fd = openSync(path, "w", 0o600);
  try {
    let left = bytes;
    while (left > 0) {
      const lines = randomBytes(57 * 13_000)
        .toString("base64")
        .match(/.{1,76}/g);
      const text = Buffer.from(`${lines.join("\n")}\n`, "latin1");
      const n = Math.min(left, text.length);
      writeSync(fd, text, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Private (Private_Clean + Private_Dirty) and proportional (Pss) memory of a process, in bytes (Linux). */
function smaps(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? NaN) * 1024;
    return { priv: get("Private_Clean") + get("Private_Dirty"), pss: get("Pss") };
  } catch {
    return { priv: NaN, pss: NaN };
  }
}

/** The minimum of a few RSS samples: a passing GC or timer is not the agents' cost. */
async function settledRss(pid) {
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    min = Math.min(min, rssOf(pid));
    await sleep(200);
  }
  return min;
}

const MiB = 2 ** 20;

/**
 * Memory per idle terminal agent: the daemon's RSS before and after starting N interactive bash agents under a PTY
 * (after they settled), and the RSS / private / proportional memory of each agent's host process. The program
 * itself (bash) is the user's and is not counted.
 */
export async function measureMemory({ P, figure, agents, daemon, clients }) {
  const n = P.idleAgents;
  await clients.direct.listAgents();
  await sleep(1000);
  const before = await settledRss(daemon.pid);
  const started = [];
  for (let i = 0; i < n; i++)
    started.push(
      await agents.run({ argv: BASH, env: { PS1: PROMPT }, tty: true, cols: 80, rows: 24, name: `idle-${i}` }),
    );
  await sleep(2000);
  const after = await settledRss(daemon.pid);
  figure("term.mem.daemon", `daemon RSS growth per idle terminal agent (${n} × bash under a PTY)`, "KiB", {
    n,
    median: (after - before) / n / 1024,
    p99: NaN,
  });
  const hosts = started.map((a) => a.hostPid).filter(Boolean);
  const result = { agents: n, daemonRssBefore: before, daemonRssAfter: after, hosts: hosts.length };
  if (hosts.length) {
    const rss = hosts.map((pid) => rssOf(pid) / MiB);
    const mem = hosts.map(smaps);
    figure("term.mem.host.rss", "agent host process RSS, per idle terminal agent", "MiB", summarize(rss));
    figure(
      "term.mem.host.private",
      "  of which private to it (Private_Clean + Private_Dirty)",
      "MiB",
      summarize(mem.map((m) => m.priv / MiB)),
    );
    figure(
      "term.mem.host.pss",
      "  proportional share (Pss: shared pages split among hosts)",
      "MiB",
      summarize(mem.map((m) => m.pss / MiB)),
    );
    Object.assign(result, { hostRssMiB: rss, hostPrivateMiB: mem.map((m) => m.priv / MiB) });
  }
  for (const a of started) await agents.stop(a);
  return result;
}

/** Polls the agent until its log holds at least `bytes` and stopped growing (the host caught up). */
async function waitForHistory(client, id, bytes, timeoutMs = 300_000) {
  const t0 = performance.now();
  let last = -1;
  for (;;) {
    const info = await client.getAgent(id);
    if (info.state !== "running")
      throw new Error(`history agent ${id} ended early (${info.state}, exit ${info.exitCode})`);
    if (info.bytes >= bytes && info.bytes === last) return info.bytes;
    last = info.bytes;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`history agent ${id}: ${info.bytes} of ${bytes} bytes after ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Attach (read-only, 80×24) on an established connection; resolves with { ms, bytes } once the snapshot arrived. */
async function attachOnce(client, id) {
  const t0 = performance.now();
  const term = await client.attach(id, { cols: 80, rows: 24, readOnly: true });
  let first;
  const snapshot = new Promise((resolve) => {
    first = resolve;
  });
  const off = term.onData((d) => first({ t: performance.now(), bytes: d.length }));
  const got = await snapshot;
  off();
  await term.detach();
  return { ms: got.t - t0, bytes: got.bytes };
}

/**
 * Attach time with a short and a long history: two terminal agents print `attachSmall` / `attachLarge` bytes of
 * base64 text and then idle; once their logs are complete, each is attached to (read-only, 80×24) `attachReps`
 * times, relay and direct, sizes alternating. Attach = screen snapshot + the log after it, so the ratio should stay
 * near 1 whatever the history.
 */
export async function measureAttach({ P, figure, ratio, agents, clients }) {
  const hist = { small: P.attachSmall, large: P.attachLarge };
  const ids = {};
  for (const [k, bytes] of Object.entries(hist)) {
    // `base64 -w 76` turns 57 input bytes into a 77-byte line: this prints `bytes` of text, then idles.
    const input = Math.ceil((bytes * 57) / 77);
    const argv = ["sh", "-c", `head -c ${input} /dev/urandom | base64 -w 76; exec sleep 3600`];
    ids[k] = (await agents.run({ argv, tty: true, cols: 80, rows: 24, name: `history-${k}` })).id;
  }
  const logged = {};
  for (const k of Object.keys(hist)) logged[k] = await waitForHistory(clients.direct, ids[k], hist[k]);
  const ms = { relay: { small: [], large: [] }, direct: { small: [], large: [] } };
  const snapshotBytes = { small: 0, large: 0 };
  for (let i = -3; i < P.attachReps; i++) {
    for (const via of i % 2 === 0 ? ["relay", "direct"] : ["direct", "relay"]) {
      for (const k of i % 2 === 0 ? ["small", "large"] : ["large", "small"]) {
        const r = await attachOnce(clients[via], ids[k]);
        snapshotBytes[k] = r.bytes;
        if (i >= 0) ms[via][k].push(r.ms);
      }
    }
  }
  const mb = (b) => `${Math.round(b / 1e6)} MB`;
  for (const via of ["relay", "direct"]) {
    for (const k of ["small", "large"]) {
      figure(
        `term.attach.${via}.${k}`,
        `attach → screen snapshot, ${mb(hist[k])} of history, ${via}`,
        "ms",
        summarize(ms[via][k]),
      );
    }
    ratio(
      `term.attach.${via}`,
      `attach time, ${mb(hist.large)} / ${mb(hist.small)} of history, ${via}`,
      `term.attach.${via}.large`,
      `term.attach.${via}.small`,
      { target: 1.5, op: "<=" },
    );
  }
  return { historyBytes: logged, snapshotBytes };
}
