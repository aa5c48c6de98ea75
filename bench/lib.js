/**
 * Shared helpers for `npm run bench`: statistics, child-process bookkeeping (every process started here is killed
 * on exit, whatever the exit path), machine information and small socket utilities.
 */
import { spawn, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, "..");
export const CLI = join(ROOT, "dist/cli/main.js");
export const DIST = join(ROOT, "dist");

// ---------------------------------------------------------------------------------------------------------------
// Statistics

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  // Nearest-rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** { n, median, p99, min, max, mean } of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    min: n ? sorted[0] : NaN,
    max: n ? sorted[n - 1] : NaN,
    mean: n ? sum / n : NaN,
  };
}

export function median(values) {
  return summarize(values).median;
}

export function round(x, digits = 3) {
  if (typeof x !== "number" || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Round every number in a (JSON-like) value to `digits` significant decimals, for results.json. */
export function roundDeep(value, digits = 4) {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || Number.isInteger(value)) return value;
    const mag = Math.abs(value) >= 1 ? 0 : Math.ceil(-Math.log10(Math.abs(value)));
    return round(value, digits + mag);
  }
  if (Array.isArray(value)) return value.map((v) => roundDeep(v, digits));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = roundDeep(v, digits);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes: tracked, killed in `finally` and on every exit path.

const children = new Set();
const extraPids = new Set(); // e.g. agent process groups the daemon started
const tempDirs = [];

export function tmpDir(prefix = "paseo-bench-") {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Remember a process group (negative pid) or pid to SIGKILL on exit if it is still there. */
export function trackPid(pid) {
  if (Number.isInteger(pid) && pid !== 0) extraPids.add(pid);
}

export function untrackPid(pid) {
  extraPids.delete(pid);
}

function killSync(signal = "SIGKILL") {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  for (const pid of extraPids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

let handlersInstalled = false;
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    killSync("SIGKILL");
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, killing child processes\n`);
      process.exit(130);
    });
  }
  process.on("uncaughtException", (err) => {
    process.stderr.write(`bench: uncaught ${err?.stack ?? err}\n`);
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`bench: unhandled rejection ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/**
 * Start a long-running node process (the CLI or a bench helper). Returns a handle with output capture,
 * waitFor(pattern) and stop().
 */
export function startNode(args, { env = {}, ipc = false, cwd = ROOT } = {}) {
  const fullEnv = { ...process.env, PASEO_RELAY_OFFER: "", ...env };
  delete fullEnv.PASEO_RELAY_OFFER;
  if (env.PASEO_RELAY_OFFER) fullEnv.PASEO_RELAY_OFFER = env.PASEO_RELAY_OFFER;
  const proc = ipc
    ? fork(args[0], args.slice(1), { env: fullEnv, cwd, stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv: [] })
    : spawn(process.execPath, args, { env: fullEnv, cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  let out = "";
  const waiters = new Set();
  const onData = (d) => {
    out += d.toString();
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
    for (const w of waiters) w();
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  const exited = new Promise((res) =>
    proc.once("exit", (code, signal) => {
      children.delete(proc);
      for (const w of waiters) w();
      res(code ?? signal);
    }),
  );
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            done();
            res(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            rej(new Error(`process ${args.join(" ")} exited before ${pattern}:\n${out.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`timed out waiting for ${pattern} from ${args.join(" ")}:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    /** SIGTERM, then SIGKILL after graceMs. */
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Run one short-lived node process to completion; returns wall time measured around spawn → exit. */
export function runNode(args, { env = {}, timeoutMs = 20_000 } = {}) {
  const fullEnv = { ...process.env, ...env };
  delete fullEnv.PASEO_RELAY_OFFER;
  delete fullEnv.PASEO_HOME;
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, args, { env: fullEnv, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.add(proc);
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("error", rej);
    proc.once("exit", (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      children.delete(proc);
      res({ code, ms, out });
    });
  });
}

export async function stopAll() {
  await Promise.all(
    [...children].map(
      (proc) =>
        new Promise((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          proc.once("exit", () => res());
          proc.kill("SIGTERM");
          setTimeout(() => proc.kill("SIGKILL"), 3000).unref();
        }),
    ),
  );
  killSync("SIGKILL");
}

// ---------------------------------------------------------------------------------------------------------------
// Machine, process figures

export function machineInfo() {
  const cpus = os.cpus();
  const memTotal = os.totalmem();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? "unknown",
    cpus: cpus.length,
    memTotalMiB: Math.round(memTotal / 2 ** 20),
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
    ulimitNofile: nofileLimit(),
  };
}

export function nofileLimit() {
  try {
    const text = readFileSync("/proc/self/limits", "utf8");
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(text);
    if (m)
      return {
        soft: m[1] === "unlimited" ? Infinity : Number(m[1]),
        hard: m[2] === "unlimited" ? Infinity : Number(m[2]),
      };
  } catch {
    // not Linux
  }
  return { soft: NaN, hard: NaN };
}

/** VmRSS of a process in bytes (Linux /proc), or NaN. */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** utime+stime of a process in ms (Linux /proc), or NaN. */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run `fn` with a deadline; rejects with a named timeout. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------------------
// Socket helpers

/**
 * Send `count` messages produced by `make(i)` on a `ws` socket, keeping at most `window` bytes queued (TCP
 * backpressure reaches us through bufferedAmount). Resolves once everything is handed to the socket.
 */
export function pump(ws, count, make, { window = 4 << 20 } = {}) {
  return new Promise((res, rej) => {
    let i = 0;
    let waiting = false;
    const onErr = (err) => rej(err);
    ws.once("error", onErr);
    const step = () => {
      waiting = false;
      while (i < count) {
        if (ws.readyState !== 1) return rej(new Error(`socket closed while sending (${i}/${count})`));
        const frames = make(i++);
        for (let k = 0; k < frames.length; k++) {
          // The completion callback of the last frame of a batch wakes us when the buffer drained.
          ws.send(frames[k], { binary: true }, k === frames.length - 1 ? wake : undefined);
        }
        if (ws.bufferedAmount > window) {
          waiting = true;
          return;
        }
      }
      ws.off("error", onErr);
      res();
    };
    const wake = () => {
      if (waiting && ws.bufferedAmount <= window / 2) step();
    };
    step();
  });
}
