/**
 * Driving terminal clients for the terminal bench (section 6), the same way for every path: a client program under
 * a real PTY (@lydell/node-pty — the bench is the user's keyboard and screen: `ssh -tt`, the paseo attach client, or
 * a local bash as the floor), or paseo's SDK in-process (`client.attach`). Both become an Endpoint: write keys,
 * watch the output.
 *
 * Probes: keystroke → echo (send one key, time until its echo is in the output) and throughput (send Enter to a
 * program waiting for it, time until a marker printed after N bytes arrives).
 */
import ptyModule from "@lydell/node-pty";
import os from "node:os";
import { sleep, trackPid, untrackPid, withTimeout } from "./lib.js";

const pty = ptyModule.default ?? ptyModule;

/**
 * What a probe sees of a client: the output's byte count and a short tail (latin1, enough to find a marker or an
 * echoed key), and a waiter resolved with the arrival time of the chunk that completes `needle`.
 */
export class Endpoint {
  constructor(name, { write, close }) {
    this.name = name;
    this._write = write;
    this._close = close;
    this.bytes = 0;
    this.tail = "";
    this.lastDataAt = performance.now();
    this.waiter = null;
    this.error = null;
  }

  /** Feed output (Buffer / Uint8Array) from the client. */
  push(chunk) {
    const t = performance.now();
    this.bytes += chunk.length;
    this.lastDataAt = t;
    const end = chunk.length > 512 ? chunk.subarray(chunk.length - 512) : chunk;
    this.tail = (this.tail + Buffer.from(end.buffer, end.byteOffset, end.byteLength).toString("latin1")).slice(-512);
    if (this.waiter && this.tail.includes(this.waiter.needle)) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(t);
    }
  }

  fail(err) {
    this.error = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  write(data) {
    this._write(data);
  }

  /** Resolves with the arrival time of the output that contains `needle` (searching only output from now on). */
  expect(needle, timeoutMs, what = `"${needle}" from ${this.name}`) {
    if (this.error) return Promise.reject(this.error);
    this.tail = "";
    return withTimeout(
      new Promise((resolve, reject) => (this.waiter = { needle, resolve, reject })),
      timeoutMs,
      what,
    ).finally(() => {
      this.waiter = null;
    });
  }

  /** Resolves once `needle` is in the output seen so far or arrives within timeoutMs (start-up banners, prompts). */
  async waitSeen(needle, timeoutMs) {
    if (this.tail.includes(needle)) return;
    const keep = this.tail;
    const p = this.expect(needle, timeoutMs);
    this.tail = keep; // expect() cleared it; a needle split across the boundary still completes
    await p;
  }

  /** Resolves once no output arrived for quietMs (bounded by timeoutMs: a chatty program is not an error here). */
  async quiet(quietMs = 50, timeoutMs = 3000) {
    const t0 = performance.now();
    while (performance.now() - this.lastDataAt < quietMs && performance.now() - t0 < timeoutMs)
      await sleep(quietMs / 2);
  }

  async close() {
    await this._close();
  }
}

/** A client program under a PTY of cols×rows; the bench writes its keyboard and reads its screen. */
export function ptyClient(name, argv, { cols = 80, rows = 24, env = {}, cwd = os.tmpdir() } = {}) {
  const fullEnv = { ...process.env, TERM: "xterm-256color", ...env };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  const p = pty.spawn(argv[0], argv.slice(1), {
    name: "xterm-256color",
    cols,
    rows,
    cwd,
    env: fullEnv,
    encoding: null,
  });
  // The PTY child leads its own session and process group: kill the group on any exit path of the bench.
  trackPid(-p.pid);
  let exited = false;
  const exit = new Promise((res) =>
    p.onExit((e) => {
      exited = true;
      res(e);
    }),
  );
  const ep = new Endpoint(name, {
    write: (d) => p.write(d),
    close: async () => {
      if (!exited) {
        try {
          process.kill(-p.pid, "SIGHUP");
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(-p.pid, "SIGKILL");
          } catch {
            // gone
          }
        }, 2000);
        await exit;
        clearTimeout(t);
      }
      untrackPid(-p.pid);
    },
  });
  p.onData((d) => ep.push(d));
  exit.then((e) => {
    if (ep.waiter)
      ep.fail(
        new Error(
          `${name} exited (code ${e.exitCode}${e.signal ? `, signal ${e.signal}` : ""}) while waiting; last output: ${JSON.stringify(ep.tail.slice(-300))}`,
        ),
      );
  });
  ep.pid = p.pid;
  ep.exit = exit;
  return ep;
}

/** paseo's SDK in-process: `client.attach(id, opts)` on an established DaemonClient. */
export async function sdkClient(name, client, agentId, opts = { cols: 80, rows: 24 }) {
  const term = await client.attach(agentId, opts);
  const ep = new Endpoint(name, {
    write: (d) => {
      term.write(d).catch((err) => ep.fail(err));
    },
    close: async () => {
      await term.detach().catch(() => {});
    },
  });
  term.onData((d) => ep.push(d));
  term.done.then(
    (info) => {
      if (ep.waiter)
        ep.fail(
          new Error(
            `${name}: agent ended (${info ? `exit ${info.exitCode}` : "detached"}) while waiting; last output: ${JSON.stringify(ep.tail.slice(-300))}`,
          ),
        );
    },
    (err) => ep.fail(err),
  );
  ep.term = term;
  return ep;
}

// ---------------------------------------------------------------------------------------------------------------
// Probes

const KEYS = "abcdefghijklmnopqrstuvwxyz";
const KILL_LINE = "\x15"; // Ctrl-U: readline empties the line (untimed, every LINE_KEYS keys)
const LINE_KEYS = 40;

/**
 * Keystroke → echo latency on an interactive shell (readline echoes each key), one key every gapMs: `samples` rounds,
 * the endpoints interleaved (rotating who goes first), so that background load hits every path alike. Returns { name: [ms…] }.
 */
export async function keystrokeLatency(endpoints, { samples, warmup = 20, gapMs = 10, timeoutMs = 5000, onFailure }) {
  const out = Object.fromEntries(endpoints.map((e) => [e.name, []]));
  for (let i = -warmup; i < samples; i++) {
    if ((i + warmup) % LINE_KEYS === 0) {
      for (const ep of endpoints) ep.write(KILL_LINE);
      await Promise.all(endpoints.map((ep) => ep.quiet(30)));
    }
    const key = KEYS[(i + warmup) % KEYS.length];
    const k = ((i % endpoints.length) + endpoints.length) % endpoints.length;
    const order = [...endpoints.slice(k), ...endpoints.slice(0, k)];
    for (const ep of order) {
      // People type a few keys a second, not back to back: every key meets processes that were idle, as in use.
      await sleep(gapMs);
      const echoed = ep.expect(key, timeoutMs, `echo of "${key}" from ${ep.name}`);
      const t0 = performance.now();
      ep.write(key);
      try {
        const t1 = await echoed;
        if (i >= 0) out[ep.name].push(t1 - t0);
      } catch (err) {
        // A lost echo is reported, never silently retried; the endpoint is dropped from the rest of the run.
        onFailure?.(ep, err);
        return probeRest(
          out,
          endpoints.filter((e) => e !== ep),
          { samples: samples - Math.max(i, 0), warmup: 0, gapMs, timeoutMs, onFailure },
        );
      }
    }
  }
  return out;
}

async function probeRest(out, endpoints, opts) {
  if (endpoints.length === 0 || opts.samples <= 0) return out;
  const rest = await keystrokeLatency(endpoints, opts);
  for (const [k, v] of Object.entries(rest)) out[k].push(...v);
  return out;
}

/**
 * Throughput of one run: the program behind `ep` printed READY and waits for a line; Enter starts it, and the clock
 * stops when `marker` (printed after the payload) arrives. Returns { ms, bytes } (bytes the client received).
 */
export async function throughputRun(ep, marker, { timeoutMs = 300_000 } = {}) {
  await ep.waitSeen("READY", 30_000);
  await ep.quiet(30);
  const done = ep.expect(marker, timeoutMs, `end marker from ${ep.name}`);
  const b0 = ep.bytes;
  const t0 = performance.now();
  ep.write("\r");
  const t1 = await done;
  return { ms: t1 - t0, bytes: ep.bytes - b0 };
}
