/**
 * AgentManager: runs agents (long-lived programs, with pipes or under a PTY), records their output, and serves it
 * to any number of followers. Agents outlive client connections AND the daemon: each runs in its own host process
 * (host/agent-host.ts) that owns the program and writes its log; the manager talks to the hosts over unix sockets
 * (host/host-client.ts) and re-adopts the running ones on open(). Only stop() or close({ killAgents: true }) end
 * agents. One manager owns a directory at a time (the daemon's home lock guarantees that).
 *
 * Layout: `<dir>/<id>/meta.json` (agent-record.ts, written by the daemon), `output.log` (log-file.ts), `exit.json`
 * and `screen.json` (written by the host), `host.sock` (see host/host-socket.ts).
 */
import { EventEmitter } from "node:events";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { infoOf, newEntry, persistEntry, type Entry } from "./agent-entry.js";
import { agentDir, newAgentId, ownerToken, writeRecord, type AgentRecord } from "./agent-record.js";
import { describeInput } from "../../protocol/redact.js";
import { AgentError } from "./errors.js";
import { runExec } from "./exec.js";
import type { HostClient, Outcome } from "./host/host-client.js";
import type { HostProcess } from "./host/spawn-host.js";
import { launch, validateRun } from "./launch.js";
import { DEFAULT_READ_BYTES, type LogFile } from "./log-file.js";
import { intOption, validateTty } from "./options.js";
import { loadAgents } from "./recovery.js";
import { readScreen } from "./screen-file.js";
import { Subscription, type SubscriptionCallbacks } from "./subscription.js";
import type {
  AgentInfo,
  ExecOptions,
  ExecOutcome,
  OutputChunk,
  Logger,
  ReadLogsResult,
  RunOptions,
  ScreenSnapshot,
  SubscriptionHandle,
} from "./types.js";
import { MAX_GRACE_MS } from "../../protocol/rpc-params.js";

export interface AgentManagerOptions {
  /** Directory holding one subdirectory per agent, e.g. `<PASEO_HOME>/agents`. Created (0700) if missing. */
  dir: string;
  /** Default SIGTERM → SIGKILL grace for stop() and close({ killAgents }). Default 5000 ms. */
  stopGraceMs?: number;
  log?: Logger;
}

export interface CloseOptions {
  /** End every running agent too (`paseo daemon stop --kill-agents`). Default: they keep running. */
  killAgents?: boolean;
}

export type AgentManagerEvents = { agent: [AgentInfo] };

const MAX_READ_BYTES = 16 << 20;
/** Directories opened by a manager in this process: a second open manager on one directory would fight the first. */
const openDirs = new Set<string>();

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
  private openKey: string | null = null;

  constructor(opts: AgentManagerOptions) {
    super();
    this.dir = opts.dir;
    this.stopGraceMs = intOption(opts.stopGraceMs, "stopGraceMs", 5000, 0, MAX_GRACE_MS);
    this.log = opts.log ?? (() => undefined);
  }

  /** Load persisted agents and re-adopt the running ones (see recovery.ts); leftovers become ended or `lost`. */
  async open(): Promise<void> {
    if (this.state !== "new") return;
    const key = resolve(this.dir);
    if (openDirs.has(key))
      throw new AgentError("BAD_PARAMS", `another AgentManager in this process has ${this.dir} open; close it first`);
    openDirs.add(key);
    this.openKey = key;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const { rec, log, client, settled } of await loadAgents(this.dir, this.stopGraceMs, this.log)) {
      const entry = this.addEntry(rec, log);
      if (client) {
        entry.owner = this.instance;
        // A record persisted while its host was starting learns its pid from the host's hello.
        entry.info.pid ??= client.pid;
        entry.procStart ??= client.agentStart;
        this.attach(entry, client);
        await this.persist(entry);
      } else if (settled) await this.persist(entry);
    }
    this.state = "open";
  }

  /**
   * Abort running execs and flush records; running agents keep running in their hosts (the next open() re-adopts
   * them) unless `killAgents`, which stops each (SIGTERM → grace → SIGKILL, reason "daemon-stopped"). Idempotent;
   * the first call's options win.
   */
  close(opts: CloseOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      this.state = "closing";
      for (const ac of this.execs) ac.abort();
      await Promise.allSettled([...this.starting]);
      const running = [...this.entries.values()].filter((e) => e.proc);
      if (opts.killAgents) await Promise.all(running.map((e) => this.stopEntry(e, this.stopGraceMs, "daemon-stopped")));
      else for (const e of running) e.proc?.detach();
      await Promise.all([...this.entries.values()].map((e) => e.writing));
      if (this.openKey) openDirs.delete(this.openKey);
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
    const spec = await validateRun(opts);
    const id = await this.allocateId();
    const info: AgentInfo = {
      id,
      name: spec.name,
      argv: spec.argv,
      cwd: spec.cwd,
      pid: null,
      state: "running",
      exitCode: null,
      signal: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
      nextSeq: 1,
      bytes: 0,
      tty: spec.tty !== null,
      cols: spec.tty?.cols ?? null,
      rows: spec.tty?.rows ?? null,
    };
    // Provisional record (pid not known yet) written before the program starts: see startHost.
    const provisional = (host: HostProcess) =>
      writeRecord(this.dir, { v: 1, info, owner: this.instance, procStart: null, log: null, host });
    const { started, client, log } = await launch(this.dir, id, spec, this.log, provisional);
    info.pid = started.agentPid;
    const rec: AgentRecord = {
      v: 1,
      info,
      owner: this.instance,
      procStart: started.agentStart,
      log: null,
      host: started.host,
    };
    const entry = this.addEntry(rec, log);
    this.attach(entry, client);
    this.log("info", `agent ${id} started (pid ${started.agentPid}, host pid ${started.host.pid})`);
    // Events go out in the same synchronous step as the state change, so they are always in order.
    this.notify(this.snapshot(entry));
    await this.persist(entry);
    return this.snapshot(entry);
  }

  /** Follow a running agent through its host until it ends, then record how. */
  private attach(entry: Entry, client: HostClient): void {
    entry.proc = client;
    const { info, log } = entry;
    entry.done = client.done
      .then(async (o: Outcome) => {
        info.exitCode = o.code;
        info.signal = o.signal;
        info.state = o.lost ? "lost" : o.signal ? "killed" : "exited";
        const reason = o.lost ?? o.reason ?? entry.stopReason;
        if (reason) info.reason = reason;
        info.endedAt = o.endedAt;
        entry.proc = null;
        log.seal(); // final info is in place: subscribers get their onEnd now
        this.notify(this.snapshot(entry));
        await this.persist(entry);
      })
      .catch((err: Error) => this.log("error", `agent ${info.id}: finishing failed: ${err.message}`));
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
    onChunk: (chunk: OutputChunk) => void,
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
  async closeInput(id: string): Promise<void> {
    await this.running(this.entry(id)).closeInput();
  }

  /** Resize a terminal agent's PTY (the program gets SIGWINCH); emits "agent" with the new size. */
  async resize(id: string, cols: number, rows: number): Promise<AgentInfo> {
    const e = this.entry(id);
    if (!e.info.tty) throw notATerminal(e.info.id);
    const size = validateTty({ tty: true, cols, rows });
    if (!size || cols === undefined || rows === undefined)
      throw new AgentError("BAD_PARAMS", "resize needs cols and rows");
    const proc = this.running(e);
    await proc.resize(size.cols, size.rows);
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
    await e.done; // an agent ending right now: its final screen is being recorded
    e.finalScreen ??= await readScreen(agentDir(this.dir, e.info.id), e.info, e.log, this.log);
    return e.finalScreen;
  }

  /** SIGTERM the agent's process group, SIGKILL after the grace; resolves with the final info. Idempotent. */
  async stop(id: string, graceMs?: number): Promise<AgentInfo> {
    const e = this.entry(id);
    await this.stopEntry(e, intOption(graceMs, "graceMs", this.stopGraceMs, 0, MAX_GRACE_MS), "stopped");
    return this.snapshot(e);
  }

  /** Run a one-shot command; not recorded. Aborted (SIGKILL) by close(). */
  async exec(opts: ExecOptions): Promise<ExecOutcome> {
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
      await proc.stop(graceMs, reason);
    }
    await e.done;
  }

  private addEntry(rec: AgentRecord, log: LogFile): Entry {
    const entry = newEntry(rec, log);
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
    return infoOf(e);
  }

  private persist(e: Entry): Promise<void> {
    return persistEntry(this.dir, e, this.log);
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
      throw new AgentError(
        "NOT_FOUND",
        `no agent with id "${shown}" on this daemon; check the id (ended agents are listed with all: true)`,
      );
    }
    return e;
  }

  private running(e: Entry): HostClient {
    if (!e.proc || e.proc.hasExited)
      throw new AgentError("NOT_RUNNING", `agent ${e.info.id} is not running (state: ${e.info.state})`);
    return e.proc;
  }

  private checkSince(e: Entry, since: number): void {
    if (!Number.isSafeInteger(since) || since < 1) throw new AgentError("BAD_PARAMS", "since must be an integer >= 1");
    if (since > e.log.nextSeq) {
      throw new AgentError(
        "BAD_PARAMS",
        `since ${since} is past the end of agent ${e.info.id}'s output (next seq is ${e.log.nextSeq})`,
      );
    }
  }

  private assertOpen(): void {
    if (this.state !== "open")
      throw new AgentError("NOT_RUNNING", `the agent manager is ${this.state === "new" ? "not open yet" : "closed"}`);
  }
}

function notATerminal(id: string): AgentError {
  return new AgentError(
    "NOT_A_TERMINAL",
    `agent ${id} runs with pipes, not a terminal; start it with tty: true (paseo run --tty) for a screen and resizing`,
  );
}
