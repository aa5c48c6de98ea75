/**
 * AgentHost: the process that keeps ONE agent alive independently of the daemon (see docs/agent-hosts.md).
 *
 * It owns the agent's program (pipes or PTY, via local-runtime.ts), is the single writer of its output.log, keeps
 * the terminal's screen state, and when the program ends it drains the output, seals the log, writes screen.json
 * (terminals) and exit.json, and only then tells the daemon. It serves at most one daemon connection at a time
 * over its unix socket (frames.ts); a new connection replaces the previous one, since only a restarted daemon
 * connects again. With no daemon connected it simply keeps going: the log on disk is the hand-over.
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { AgentError } from "../errors.js";
import { LogFile } from "../log-file.js";
import { spawnLocal, type AgentRuntime } from "../local-runtime.js";
import { finalScreen } from "../screen-file.js";
import type { OutputChunk, Logger } from "../types.js";
import { writeExit } from "./exit-file.js";
import {
  encodeJson,
  encodeRecord,
  FrameDecoder,
  HOST_PROTOCOL_VERSION,
  KIND_INPUT,
  KIND_JSON,
  NO_REPLY,
  type ExitRecord,
  type HostMessage,
} from "./frames.js";
import { TTY_MAX_COLS, TTY_MAX_ROWS, TTY_MIN_COLS, TTY_MIN_ROWS, MAX_GRACE_MS } from "../../../protocol/rpc-params.js";

/** Stop streaming live records above this much unsent data; the daemon catches up from disk after a "sync". */
const SEND_HIGH_WATER = 4 << 20;
/** After the exit is recorded, how long to wait for the daemon's "bye" before leaving anyway. */
const BYE_WAIT_MS = 5000;
/**
 * A program that ends before the daemon's first connection (e.g. `true` on a loaded machine): wait this long for
 * that first connection, so the daemon that started us learns the exit from us instead of finding no host at all.
 * As long as the daemon's own first-connect deadline (host-client.ts START_CONNECT_TIMEOUT_MS).
 */
const FIRST_CONNECT_WAIT_MS = 15_000;
/** Grace for SIGTERM to the host itself (e.g. a test harness or shutdown cleaning up). */
const HOST_TERM_GRACE_MS = 3000;

export interface HostSpec {
  v: 1;
  id: string;
  /** The agent's directory (`<home>/agents/<id>`): output.log, exit.json, screen.json live here. */
  dir: string;
  socket: string;
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
  shell: boolean;
  tty: { cols: number; rows: number } | null;
}

type State = "running" | "ended" | "leaving";

export class AgentHost {
  private state: State = "running";
  private conn: Socket | null = null;
  /** The connection is backed up: live records are skipped until it drains (then a "sync" is sent). */
  private behind = false;
  private ended: ExitRecord | null = null;
  private stopReason: string | null = null;
  private leave: (() => void) | null = null;
  /** Some daemon has connected at least once (see FIRST_CONNECT_WAIT_MS). */
  private everConnected = false;

  private constructor(
    private readonly spec: HostSpec,
    private readonly server: Server,
    private readonly lf: LogFile,
    private readonly runtime: AgentRuntime,
    private readonly log: Logger,
  ) {}

  /** Listen, create the log, start the program. Resolves once the program runs; `finished` when the host may exit. */
  static async start(spec: HostSpec, log: Logger): Promise<{ host: AgentHost; finished: Promise<void> }> {
    const server = await listen(spec.socket);
    let lf: LogFile | undefined;
    try {
      lf = LogFile.create(join(spec.dir, "output.log"), log);
      // Registered before the runtime (whose screen follows the log too), so a record goes to the daemon before
      // the screen's parser sees it: xterm's write() costs ~45 µs p50 here, and a keystroke's echo should not wait.
      let host: AgentHost | undefined;
      lf.onAppend((c) => host?.sendRecord(c));
      const runtime = await spawnLocal(
        { argv: spec.argv, cwd: spec.cwd, env: spec.env, shell: spec.shell, ...(spec.tty ? { tty: spec.tty } : {}) },
        lf,
        log,
      );
      host = new AgentHost(spec, server, lf, runtime, log);
      const h = host;
      server.on("connection", (s) => h.onConnection(s));
      const finished = h.runUntilEnd();
      return { host: h, finished };
    } catch (err) {
      lf?.seal();
      server.close();
      removeSocket(spec.socket);
      throw err;
    }
  }

  get pid(): number {
    return this.runtime.pid;
  }

  /** SIGTERM/SIGINT to the host: end the agent like `paseo stop` would, record it, leave. */
  terminate(): void {
    this.stopReason ??= "host-terminated";
    void this.runtime.stop(HOST_TERM_GRACE_MS);
  }

  private async runUntilEnd(): Promise<void> {
    const status = await this.runtime.done;
    if (this.runtime.tty) await finalScreen(this.runtime, this.spec.dir, this.log);
    this.lf.seal(); // fsync + close: the log is complete before anyone is told the agent ended
    const rec: ExitRecord = {
      code: status.code,
      signal: status.signal,
      reason: this.stopReason,
      endedAt: new Date().toISOString(),
      nextSeq: this.lf.nextSeq,
      bytes: this.lf.dataBytes,
    };
    try {
      await writeExit(this.spec.dir, rec);
    } catch (err) {
      this.log("error", `cannot write exit.json: ${(err as Error).message}`);
    }
    this.ended = rec;
    this.state = "ended";
    if (this.conn) {
      this.send({ t: "exit", exit: rec });
      // Wait for the daemon to take it (bye or close), bounded: the exit is on disk either way.
      await new Promise<void>((res) => {
        this.leave = res;
        setTimeout(res, BYE_WAIT_MS).unref();
      });
    } else if (!this.everConnected) {
      // The daemon that started us has not connected yet: its hello will carry `ended`; leave on its bye (bounded).
      await new Promise<void>((res) => {
        this.leave = res;
        setTimeout(res, FIRST_CONNECT_WAIT_MS).unref();
      });
    }
    this.state = "leaving";
    this.server.close();
    this.conn?.destroy();
    removeSocket(this.spec.socket);
  }

  private onConnection(sock: Socket): void {
    if (this.state === "leaving") return void sock.destroy();
    this.conn?.destroy(); // a newer daemon: the old connection is stale
    this.conn = sock;
    this.everConnected = true;
    this.behind = false;
    const decoder = new FrameDecoder();
    sock.on("error", () => undefined);
    sock.on("close", () => {
      if (this.conn === sock) this.conn = null;
      if (this.state === "ended") this.leave?.();
    });
    sock.on("data", (chunk: Buffer) => {
      let frames: ReturnType<typeof decoder.push>;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.log("warn", `bad frame from the daemon: ${(err as Error).message}`);
        return void sock.destroy();
      }
      for (const f of frames) {
        if (f.kind === KIND_INPUT) this.onInput(sock, f.id, f.data);
        else if (f.kind === KIND_JSON) this.onMessage(sock, f.msg);
      }
    });
    this.send({
      t: "hello",
      v: HOST_PROTOCOL_VERSION,
      id: this.spec.id,
      pid: this.runtime.pid,
      tty: this.runtime.tty,
      cols: this.runtime.size()?.cols ?? null,
      rows: this.runtime.size()?.rows ?? null,
      nextSeq: this.lf.nextSeq,
      ended: this.ended,
    });
  }

  /** Numbered input is answered; NO_REPLY input (terminal keystrokes) only when the write fails. */
  private onInput(sock: Socket, id: number, data: Uint8Array): void {
    if (id !== NO_REPLY) return void this.reply(sock, id, async () => this.runtime.write(data));
    this.runtime.write(data).catch((err: unknown) => {
      if (this.conn === sock) this.send(errorRes(id, err));
    });
  }

  private onMessage(sock: Socket, m: Record<string, unknown>): void {
    if (m.t === "bye") return this.leave?.();
    if (m.t !== "req" || !Number.isInteger(m.id)) return;
    const id = m.id as number;
    switch (m.op) {
      case "resize":
        return void this.reply(sock, id, async () => {
          const cols = checkInt(m.cols, "cols", TTY_MIN_COLS, TTY_MAX_COLS);
          const rows = checkInt(m.rows, "rows", TTY_MIN_ROWS, TTY_MAX_ROWS);
          this.running().resize(cols, rows);
        });
      case "screen":
        return void this.reply(sock, id, () => this.runtime.screen());
      case "closeInput":
        return void this.reply(sock, id, async () => this.running().closeInput());
      case "stop":
        return void this.reply(sock, id, async () => {
          const grace = checkInt(m.graceMs, "graceMs", 0, MAX_GRACE_MS);
          if (this.state === "running")
            this.stopReason ??= typeof m.reason === "string" ? m.reason.slice(0, 64) : "stopped";
          void this.runtime.stop(grace);
        });
      default:
        return void this.reply(sock, id, async () => {
          throw new AgentError("BAD_PARAMS", `unknown host request "${String(m.op).slice(0, 40)}"`);
        });
    }
  }

  private running(): AgentRuntime {
    if (this.state !== "running" || this.runtime.hasExited) throw new AgentError("NOT_RUNNING", "the agent has exited");
    return this.runtime;
  }

  private async reply(sock: Socket, id: number, fn: () => Promise<unknown>): Promise<void> {
    let msg: HostMessage;
    try {
      const result = await fn();
      msg =
        result && typeof result === "object"
          ? { t: "res", id, ok: true, result: result as never }
          : { t: "res", id, ok: true };
    } catch (err) {
      msg = errorRes(id, err);
    }
    if (this.conn === sock) this.send(msg);
  }

  private sendRecord(c: OutputChunk): void {
    if (!this.conn || this.behind) return;
    this.conn.write(encodeRecord(c.seq, c.fd, c.data));
    if (this.conn.writableLength > SEND_HIGH_WATER) {
      this.behind = true;
      const sock = this.conn;
      sock.once("drain", () => {
        if (this.conn !== sock) return;
        this.behind = false;
        this.send({ t: "sync", nextSeq: this.lf.nextSeq });
      });
    }
  }

  private send(msg: HostMessage): void {
    this.conn?.write(encodeJson(msg));
  }
}

function errorRes(id: number, err: unknown): HostMessage {
  const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "HOST_ERROR";
  return { t: "res", id, ok: false, error: { code, message: (err as Error).message } };
}

function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw new AgentError("BAD_PARAMS", `${name} must be an integer between ${min} and ${max}`);
  return v as number;
}

/** Listen on the socket path with mode 0600 (umask during bind, then chmod, so there is no window). */
async function listen(path: string): Promise<Server> {
  removeSocket(path);
  const server = createServer({ pauseOnConnect: false });
  const old = process.umask(0o177);
  try {
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(path, () => {
        server.off("error", rej);
        res();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  server.on("error", () => undefined);
  return server;
}

/** Remove a leftover socket file at `path` (never anything that is not a socket). */
function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* absent */
  }
}
