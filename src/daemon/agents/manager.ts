/**
 * AgentManager: runs agents (long-lived child process groups), records their output, and serves it to any number
 * of followers. Agents outlive client connections; their history outlives the daemon. One manager owns a
 * directory at a time (the daemon's home lock guarantees that); records left "running" by an earlier process are
 * settled on open() so no ghost ever shows up as running.
 *
 * Layout: `<dir>/<id>/meta.json` (agent-record.ts) and `<dir>/<id>/output.log` (log-file.ts).
 */
import { EventEmitter } from "node:events";
import { mkdir, rm } from "node:fs/promises";
import { basename } from "node:path";
import { procStartTime } from "./agent-process.js";
import { agentDir, logPath, newAgentId, ownerToken, writeRecord, type AgentRecord } from "./agent-record.js";
import { describeInput } from "../../protocol/redact.js";
import { AgentError } from "./errors.js";
import { runExec } from "./exec.js";
import { spawnLocal, type AgentRuntime } from "./local-runtime.js";
import { finalScreen, readScreen } from "./screen-file.js";
import { DEFAULT_READ_BYTES, LogFile } from "./log-file.js";
import { intOption, resolveCwd, validateArgv, validateEnv, validateTty } from "./options.js";
import { loadAgents } from "./recovery.js";
import { Subscription, type SubscriptionCallbacks } from "./subscription.js";
import type { AgentInfo, ExecOptions, ExecResult, LogChunk, Logger, ReadLogsResult, RunOptions, ScreenSnapshot, SubscriptionHandle } from "./types.js";
import { MAX_GRACE_MS } from "../../protocol/rpc-params.js";

export interface AgentManagerOptions {
  /** Directory holding one subdirectory per agent, e.g. `<PASEO_HOME>/agents`. Created (0700) if missing. */
  dir: string;
  /** Default SIGTERM → SIGKILL grace for stop() and close(). Default 5000 ms. */
  stopGraceMs?: number;
  log?: Logger;
}

export type AgentManagerEvents = { agent: [AgentInfo] };

const MAX_READ_BYTES = 16 << 20;

interface Entry {
  info: AgentInfo;
  log: LogFile;
  owner: string;
  procStart: string | null;
  proc: AgentRuntime | null;
  /** A terminal agent's final screen, once it ended (also in screen.json). */
  finalScreen: ScreenSnapshot | null;
  stopReason: string | null;
  /** Resolves once the agent has ended and its final record is persisted. */
  done: Promise<void>;
  /** Tail of this agent's meta.json write chain: writes never overtake each other. */
  writing: Promise<void>;
}

export class AgentManager extends EventEmitter<AgentManagerEvents> {
  readonly dir: string;
  private readonly stopGraceMs: number;
  private readonly log: Logger;
  private readonly instance = ownerToken();
  private readonly entries = new Map<string, Entry>();
  private readonly execs = new Set<AbortController>();
  /** run() calls between validation and registration; close() waits for them so none escapes the shutdown. */
  private readonly starting = new Set<Promise<unknown>>();
  private state: "new" | "open" | "closing" | "closed" = "new";
  private closing: Promise<void> | null = null;

  constructor(opts: AgentManagerOptions) {
    super();
    this.dir = opts.dir;
    this.stopGraceMs = intOption(opts.stopGraceMs, "stopGraceMs", 5000, 0, MAX_GRACE_MS);
    this.log = opts.log ?? (() => undefined);
  }

  /** Load persisted agents. Records still marked running by another process become killed / "daemon-stopped". */
  async open(): Promise<void> {
    if (this.state !== "new") return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const { rec, log, settled } of await loadAgents(this.dir, this.stopGraceMs, this.log)) {
      const entry = this.addEntry(rec, log);
      if (settled) await this.persist(entry);
    }
    this.state = "open";
  }

  /** Stop every running agent (SIGTERM → grace → SIGKILL), abort running execs, flush records. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = "closing";
      for (const ac of this.execs) ac.abort();
      await Promise.allSettled([...this.starting]);
      const running = [...this.entries.values()].filter((e) => e.proc);
      await Promise.all(running.map((e) => this.stopEntry(e, this.stopGraceMs, "daemon-stopped")));
      await Promise.all([...this.entries.values()].map((e) => e.writing));
      this.state = "closed";
    })();
    return this.closing;
  }

  async run(opts: RunOptions): Promise<AgentInfo> {
    this.assertOpen();
    const p = this.start(opts);
    this.starting.add(p);
    try {
      return await p;
    } finally {
      this.starting.delete(p);
    }
  }

  private async start(opts: RunOptions): Promise<AgentInfo> {
    if (!opts || typeof opts !== "object") throw new AgentError("BAD_PARAMS", "run() needs an options object with argv");
    const argv = validateArgv(opts.argv);
    const env = validateEnv(opts.env);
    if (opts.name !== undefined && opts.name !== null && (typeof opts.name !== "string" || opts.name.length > 128)) {
      throw new AgentError("BAD_PARAMS", "name must be a string of at most 128 characters");
    }
    const shell = opts.shell === true;
    const name = opts.name || (shell ? (argv.join(" ").trim().split(/\s+/)[0] ?? "sh") : basename(argv[0]!));
    const tty = validateTty(opts);
    const cwd = await resolveCwd(opts.cwd);
    const id = await this.allocateId();
    let log: LogFile | undefined;
    let proc: AgentRuntime;
    try {
      log = LogFile.create(logPath(this.dir, id), this.log);
      proc = await spawnLocal({ argv, cwd, env, shell, ...(tty ? { tty } : {}) }, log);
    } catch (err) {
      // Nothing ran: leave no record behind (the caller gets SPAWN_FAILED with the reason).
      log?.seal();
      await rm(agentDir(this.dir, id), { recursive: true, force: true });
      throw err;
    }
    return this.track(id, name, argv, cwd, log, proc, tty);
  }

  private async track(id: string, name: string, argv: string[], cwd: string, log: LogFile, proc: AgentRuntime, tty: { cols: number; rows: number } | null): Promise<AgentInfo> {
    const info: AgentInfo = {
      id, name, argv, cwd, pid: proc.pid, state: "running", exitCode: null, signal: null,
      startedAt: new Date().toISOString(), endedAt: null, nextSeq: 1, bytes: 0,
      tty: tty !== null, cols: tty?.cols ?? null, rows: tty?.rows ?? null,
    };
    const entry = this.addEntry({ v: 1, info, owner: this.instance, procStart: procStartTime(proc.pid), log: null }, log);
    entry.proc = proc;
    entry.done = proc.done.then(async (status) => {
      // The final screen is taken before the end is announced, so screen() of an ended agent always answers.
      if (proc.tty) entry.finalScreen = await finalScreen(proc, this.dir, id, this.log);
      info.exitCode = status.code;
      info.signal = status.signal;
      info.state = status.signal ? "killed" : "exited";
      if (entry.stopReason) info.reason = entry.stopReason;
      info.endedAt = new Date().toISOString();
      entry.proc = null;
      log.seal(); // final info is in place: subscribers get their onEnd now
      this.notify(this.snapshot(entry));
      await this.persist(entry);
    }).catch((err: Error) => this.log("error", `agent ${id}: finishing failed: ${err.message}`));
    this.log("info", `agent ${id} started (pid ${proc.pid})`);
    // Events go out in the same synchronous step as the state change, so they are always in order.
    this.notify(this.snapshot(entry));
    await this.persist(entry);
    return this.snapshot(entry);
  }

  get(id: string): AgentInfo {
    return this.snapshot(this.entry(id));
  }

  /** Running agents (all agents with `all`), oldest first. */
  list(opts: { all?: boolean } = {}): AgentInfo[] {
    return [...this.entries.values()]
      .filter((e) => opts.all || e.info.state === "running")
      .map((e) => this.snapshot(e))
      .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** One bounded batch of recorded output from `since` (inclusive). */
  async readLogs(id: string, since = 1, maxBytes = DEFAULT_READ_BYTES): Promise<ReadLogsResult> {
    const e = this.entry(id);
    this.checkSince(e, since);
    return e.log.read(since, intOption(maxBytes, "maxBytes", DEFAULT_READ_BYTES, 1, MAX_READ_BYTES));
  }

  /**
   * Replay from `since` (inclusive), then follow live output, each seq exactly once. onEnd fires after the agent
   * ended and everything was delivered. Callbacks never run before this returns. See subscription.ts.
   */
  subscribe(
    id: string,
    since: number,
    onChunk: (chunk: LogChunk) => void,
    onEnd: (info: AgentInfo) => void,
    onError?: (err: Error) => void,
  ): SubscriptionHandle {
    const e = this.entry(id);
    this.checkSince(e, since);
    const cb: SubscriptionCallbacks = { onChunk, onEnd, ...(onError ? { onError } : {}) };
    return new Subscription(e.log, since, cb, () => this.snapshot(e), this.log);
  }

  /** Write to the agent's stdin; resolves once the bytes are handed to the OS (stdin backpressure). */
  async sendInput(id: string, data: Uint8Array): Promise<number> {
    const e = this.entry(id);
    if (!(data instanceof Uint8Array)) throw new AgentError("BAD_PARAMS", "input data must be bytes");
    const proc = this.running(e);
    if (data.length === 0) return 0;
    await proc.write(data);
    return data.length;
  }

  /** Close the agent's stdin (EOF), e.g. for filters that read until end of input. Terminals get Ctrl-D. */
  closeInput(id: string): void {
    this.running(this.entry(id)).closeInput();
  }

  /** Resize a terminal agent's PTY (the program gets SIGWINCH); emits "agent" with the new size. */
  async resize(id: string, cols: number, rows: number): Promise<AgentInfo> {
    const e = this.entry(id);
    if (!e.info.tty) throw notATerminal(e.info.id);
    const size = validateTty({ tty: true, cols, rows });
    if (!size || cols === undefined || rows === undefined) throw new AgentError("BAD_PARAMS", "resize needs cols and rows");
    const proc = this.running(e);
    proc.resize(size.cols, size.rows);
    e.info.cols = size.cols;
    e.info.rows = size.rows;
    this.notify(this.snapshot(e));
    await this.persist(e);
    return this.snapshot(e);
  }

  /** A terminal agent's screen (see ScreenSnapshot): running or ended. */
  async screen(id: string): Promise<ScreenSnapshot> {
    const e = this.entry(id);
    if (!e.info.tty) throw notATerminal(e.info.id);
    if (e.proc) return e.proc.screen();
    await e.done; // an agent ending right now: its final screen is being taken
    e.finalScreen ??= await readScreen(this.dir, e.info, e.log, this.log);
    return e.finalScreen;
  }

  /** SIGTERM the agent's process group, SIGKILL after the grace; resolves with the final info. Idempotent. */
  async stop(id: string, graceMs?: number): Promise<AgentInfo> {
    const e = this.entry(id);
    await this.stopEntry(e, intOption(graceMs, "graceMs", this.stopGraceMs, 0, MAX_GRACE_MS), "stopped");
    return this.snapshot(e);
  }

  /** Run a one-shot command; not recorded. Aborted (SIGKILL) by close(). */
  async exec(opts: ExecOptions): Promise<ExecResult> {
    this.assertOpen();
    const ac = new AbortController();
    this.execs.add(ac);
    try {
      return await runExec(opts, ac.signal);
    } finally {
      this.execs.delete(ac);
    }
  }

  private async stopEntry(e: Entry, graceMs: number, reason: string): Promise<void> {
    const proc = e.proc;
    if (proc) {
      if (!proc.hasExited) e.stopReason ??= reason;
      await proc.stop(graceMs);
    }
    await e.done;
  }

  private addEntry(rec: AgentRecord, log: LogFile): Entry {
    const entry: Entry = {
      info: rec.info, log, owner: rec.owner, procStart: rec.procStart, proc: null, finalScreen: null, stopReason: null,
      done: Promise.resolve(), writing: Promise.resolve(),
    };
    this.entries.set(rec.info.id, entry);
    return entry;
  }

  /** Emit "agent"; a throwing listener is logged, never allowed to break an agent's lifecycle. */
  private notify(info: AgentInfo): void {
    try {
      this.emit("agent", info);
    } catch (err) {
      this.log("error", `an "agent" event listener failed: ${(err as Error).message}`);
    }
  }

  private snapshot(e: Entry): AgentInfo {
    return { ...e.info, argv: [...e.info.argv], nextSeq: e.log.nextSeq, bytes: e.log.dataBytes };
  }

  /** Queue a meta.json rewrite with the state current when it runs. Failures are logged, never thrown. */
  private persist(e: Entry): Promise<void> {
    e.writing = e.writing.then(async () => {
      const info = this.snapshot(e);
      const rec: AgentRecord = { v: 1, info, owner: e.owner, procStart: e.procStart, log: e.log.sealed ? e.log.summary() : null };
      try {
        await writeRecord(this.dir, rec);
      } catch (err) {
        this.log("error", `cannot save agent ${info.id}'s record: ${(err as Error).message}`);
      }
    });
    return e.writing;
  }

  private async allocateId(): Promise<string> {
    for (let i = 0; i < 16; i++) {
      const id = newAgentId();
      if (this.entries.has(id)) continue;
      try {
        await mkdir(agentDir(this.dir, id), { mode: 0o700 });
        return id;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    throw new Error("could not allocate a unique agent id");
  }

  private entry(id: string): Entry {
    const e = typeof id === "string" ? this.entries.get(id) : undefined;
    if (!e) {
      const shown = describeInput(String(id));
      throw new AgentError("NOT_FOUND", `no agent with id "${shown}" on this daemon; check the id (ended agents are listed with all: true)`);
    }
    return e;
  }

  private running(e: Entry): AgentRuntime {
    if (!e.proc || e.proc.hasExited) throw new AgentError("NOT_RUNNING", `agent ${e.info.id} is not running (state: ${e.info.state})`);
    return e.proc;
  }

  private checkSince(e: Entry, since: number): void {
    if (!Number.isSafeInteger(since) || since < 1) throw new AgentError("BAD_PARAMS", "since must be an integer >= 1");
    if (since > e.log.nextSeq) {
      throw new AgentError("BAD_PARAMS", `since ${since} is past the end of agent ${e.info.id}'s output (next seq is ${e.log.nextSeq})`);
    }
  }

  private assertOpen(): void {
    if (this.state !== "open") throw new AgentError("NOT_RUNNING", `the agent manager is ${this.state === "new" ? "not open yet" : "closed"}`);
  }
}

function notATerminal(id: string): AgentError {
  return new AgentError("NOT_A_TERMINAL", `agent ${id} runs with pipes, not a terminal; start it with tty: true (paseo run --tty) for a screen and resizing`);
}
