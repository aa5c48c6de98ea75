/**
 * HostClient: the daemon's handle on one agent whose program runs in an agent host (agent-host.ts). It speaks the
 * host protocol (frames.ts) over the host's unix socket, feeds the host's live records into the daemon's view of
 * the log (LogMirror), and forwards input, resize, screen and stop.
 *
 * States: connected → (socket lost) reconnecting → connected | ended | lost;  connected → ended (the host's "exit");
 * any → detached (the daemon stops without ending its agents: the socket is closed and nothing else happens).
 * `done` resolves with the outcome once the agent has ended AND the daemon's view holds every record of its log.
 * If the host vanishes, exit.json (written by the host before it tells anyone) decides; without one the agent is
 * `lost` — and if its program somehow survived the host, that program is terminated, since nothing could record
 * its output any more.
 */
import { createConnection, type Socket } from "node:net";
import { procStartTime, sameProcessAlive, signalGroup } from "../agent-process.js";
import { AgentError } from "../errors.js";
import type { LogMirror } from "../log-mirror.js";
import type { Logger, ScreenSnapshot } from "../types.js";
import { readExit } from "./exit-file.js";
import {
  encodeInput,
  encodeJson,
  FrameDecoder,
  HOST_PROTOCOL_VERSION,
  KIND_JSON,
  KIND_RECORD,
  NO_REPLY,
  type DaemonRequest,
  type ExitRecord,
  type Frame,
} from "./frames.js";
import type { HostProcess } from "./spawn-host.js";

const CONNECT_TIMEOUT_MS = 3000;
/** For a host that has just reported it is listening (agents.run). */
const START_CONNECT_TIMEOUT_MS = 15_000;
const RECONNECT_MAX_DELAY_MS = 2000;
/** After a lost host, how long a surviving program gets between SIGTERM and SIGKILL. */
const ORPHAN_KILL_GRACE_MS = 2000;
/** How long after the grace a stop may take before the daemon kills program and host itself. */
const STOP_BACKSTOP_MS = 5000;
/** Terminal input is sent without waiting for the host while less than this is queued on its socket. */
const NO_REPLY_INPUT_QUEUE = 64 * 1024;

export interface Outcome {
  code: number | null;
  signal: string | null;
  reason: string | null;
  endedAt: string;
  /** Set when the agent is lost: why. */
  lost: string | null;
}

export interface HostClientOptions {
  id: string;
  /** The agent's directory (exit.json). */
  dir: string;
  host: HostProcess;
  /** null for a record persisted while its host was starting (a daemon that died right then): the hello tells. */
  agentPid: number | null;
  agentStart: string | null;
  tty: boolean;
  mirror: LogMirror;
  log: Logger;
}

interface Hello {
  pid: number;
  tty: boolean;
  cols: number | null;
  rows: number | null;
  nextSeq: number;
  ended: ExitRecord | null;
}

type State = "connected" | "reconnecting" | "ended" | "detached";

export class HostClient {
  readonly done: Promise<Outcome>;
  readonly tty: boolean;
  private state: State = "connected";
  private sock: Socket | null = null;
  private readonly pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  private nextReq = 1;
  private settle!: (o: Outcome) => void;

  private constructor(
    private readonly o: HostClientOptions,
    conn: Connection | null,
  ) {
    this.tty = o.tty;
    this.done = new Promise((res) => (this.settle = res));
    if (conn) this.sock = this.use(conn);
    else {
      this.state = "reconnecting";
      void this.recover();
    }
  }

  /** Connect to the host of a just-started agent. Throws when it does not answer. */
  static async connect(o: HostClientOptions, timeoutMs = START_CONNECT_TIMEOUT_MS): Promise<HostClient> {
    // The host said it listens, so failures here are a loaded machine being slow: retry until the deadline.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return new HostClient(o, await connectChecked(o, Math.max(500, deadline - Date.now())));
      } catch (err) {
        if (Date.now() >= deadline || !sameProcessAlive(o.host.pid, o.host.procStart)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Re-adopt an agent recorded as running: connected, or — when its host lives but does not answer yet — reconnecting
   * in the background. null when the host process is gone (the caller settles the record).
   */
  static async adopt(o: HostClientOptions): Promise<HostClient | null> {
    try {
      return new HostClient(o, await connectChecked(o, CONNECT_TIMEOUT_MS));
    } catch (err) {
      if (!sameProcessAlive(o.host.pid, o.host.procStart)) return null;
      o.log(
        "warn",
        `agent ${o.id}: its host (pid ${o.host.pid}) does not answer yet (${(err as Error).message}); retrying`,
      );
      return new HostClient(o, null);
    }
  }

  get pid(): number {
    return this.o.agentPid!;
  }
  get agentStart(): string | null {
    return this.o.agentStart;
  }
  get hasExited(): boolean {
    return this.state === "ended";
  }

  /**
   * Input for the program. A terminal's input is handed to the host's socket without waiting for an answer
   * (NO_REPLY): a PTY write never waits, so the host's answer only added a round trip — and a daemon wake-up that
   * competes with the echo for the CPU — to every keystroke. While the socket is backed up (the host is not
   * reading), numbered requests again make the caller wait for the host. Pipe agents always wait: their answer
   * comes once stdin accepted the bytes.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.tty && this.state === "connected" && this.sock!.writableLength < NO_REPLY_INPUT_QUEUE) {
      this.sock!.write(encodeInput(NO_REPLY, data));
      return Promise.resolve();
    }
    return this.request(null, data).then(() => undefined);
  }
  closeInput(): Promise<void> {
    return this.request({ op: "closeInput" }).then(() => undefined);
  }
  resize(cols: number, rows: number): Promise<void> {
    return this.request({ op: "resize", cols, rows }).then(() => undefined);
  }

  /** The host's screen; resolves once the daemon's log view holds every record before the snapshot's seq. */
  async screen(): Promise<ScreenSnapshot> {
    const snap = (await this.request({ op: "screen" })) as ScreenSnapshot;
    await this.o.mirror.reach(snap.seq);
    return snap;
  }

  /** SIGTERM → graceMs → SIGKILL through the host (directly to the group when the host cannot be reached). */
  async stop(graceMs: number, reason: string): Promise<Outcome> {
    // A host that does not get it done (hung, stopped) must not make `stop` hang: past the grace and a margin, the
    // program and the host are killed directly; the outcome then comes from exit.json or is "lost".
    const backstop = setTimeout(() => {
      const { agentPid, agentStart, host } = this.o;
      if (agentPid !== null && sameProcessAlive(agentPid, agentStart)) signalGroup(agentPid, "SIGKILL");
      if (sameProcessAlive(host.pid, host.procStart)) process.kill(host.pid, "SIGKILL");
    }, graceMs + STOP_BACKSTOP_MS);
    try {
      if (this.state === "connected") {
        try {
          await this.request({ op: "stop", graceMs, reason });
          return await this.done;
        } catch {
          /* the host went away meanwhile: fall through */
        }
      }
      if (this.state === "reconnecting") this.signalAgent(graceMs);
      return await this.done;
    } finally {
      clearTimeout(backstop);
    }
  }

  /** The daemon is stopping and the agent keeps running: just let go of the socket. */
  detach(): void {
    if (this.state === "ended" || this.state === "detached") return;
    this.state = "detached";
    this.failPending("the daemon is stopping");
    this.sock?.destroy(); // nothing to flush: the host keeps writing the log on disk regardless
  }

  private use(conn: Connection): Socket {
    const { sock, decoder } = conn;
    sock.on("data", (chunk: Buffer) => {
      if (this.sock !== sock) return;
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.o.log("warn", `agent ${this.o.id}: bad frame from its host (${(err as Error).message}); reconnecting`);
        return void sock.destroy();
      }
      for (const f of frames) this.onFrame(f);
    });
    sock.on("close", () => {
      if (this.sock === sock) this.onClose();
    });
    queueMicrotask(() => {
      void this.o.mirror.reach(conn.hello.nextSeq);
      for (const f of conn.rest) this.onFrame(f);
      if (conn.hello.ended) void this.end(conn.hello.ended);
    });
    return sock;
  }

  private onFrame(f: Frame): void {
    if (f.kind === KIND_RECORD) return this.o.mirror.offer({ seq: f.seq, fd: f.fd, data: f.data });
    if (f.kind !== KIND_JSON) return;
    const m = f.msg;
    if (m.t === "sync" && Number.isInteger(m.nextSeq)) void this.o.mirror.reach(m.nextSeq as number);
    else if (m.t === "exit") void this.end(m.exit as ExitRecord);
    else if (m.t === "res" && m.id === NO_REPLY && m.ok === false) {
      // Only a terminal whose program exited before the host could tell us; its exit follows.
      const e = (m.error ?? {}) as { message?: string };
      this.o.log("info", `agent ${this.o.id}: input not delivered: ${String(e.message ?? "refused").slice(0, 200)}`);
    } else if (m.t === "res" && Number.isInteger(m.id)) {
      const p = this.pending.get(m.id as number);
      if (!p) return;
      this.pending.delete(m.id as number);
      if (m.ok === true) p.res(m.result);
      else {
        const e = (m.error ?? {}) as { code?: string; message?: string };
        const code = ["NOT_RUNNING", "BAD_PARAMS", "NOT_A_TERMINAL"].includes(e.code ?? "")
          ? (e.code as "NOT_RUNNING")
          : "NOT_RUNNING";
        p.rej(new AgentError(code, `agent ${this.o.id}: ${e.message ?? "the host refused the request"}`));
      }
    }
  }

  private request(req: DaemonRequest | null, input?: Uint8Array): Promise<unknown> {
    if (this.state !== "connected") {
      return Promise.reject(
        new AgentError(
          "NOT_RUNNING",
          `agent ${this.o.id} is not reachable right now (${this.state === "ended" ? "it has exited" : "its host is reconnecting"})`,
        ),
      );
    }
    const id = this.nextReq++;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.sock!.write(req ? encodeJson({ t: "req", id, ...req }) : encodeInput(id, input!));
    });
  }

  private async end(exit: ExitRecord): Promise<void> {
    if (this.state === "ended" || this.state === "detached") return;
    this.state = "ended";
    this.failPending("the agent has exited");
    await this.o.mirror.reach(exit.nextSeq);
    try {
      this.sock?.end(encodeJson({ t: "bye" }));
    } catch {
      /* already closed */
    }
    this.settle({ code: exit.code, signal: exit.signal, reason: exit.reason, endedAt: exit.endedAt, lost: null });
  }

  private onClose(): void {
    if (this.state !== "connected") return;
    this.state = "reconnecting";
    this.failPending("the connection to its host was lost");
    void this.recover();
  }

  /** The socket dropped: exit.json, a reconnect, or (host gone) lost. */
  private async recover(): Promise<void> {
    for (let delay = 50; this.state === "reconnecting"; delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS)) {
      const exit = await readExit(this.o.dir);
      if (exit) {
        await this.o.mirror.finalPass();
        this.state = "connected"; // end() expects a live state; nothing is pending
        return this.end(exit);
      }
      if (!sameProcessAlive(this.o.host.pid, this.o.host.procStart)) return this.lose();
      try {
        const conn = await connectChecked(this.o, CONNECT_TIMEOUT_MS);
        if ((this.state as State) !== "reconnecting") return void conn.sock.destroy();
        this.state = "connected";
        this.sock = this.use(conn);
        this.o.log("info", `agent ${this.o.id}: reconnected to its host`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async lose(): Promise<void> {
    const exit = await readExit(this.o.dir); // written just before the host vanished?
    if (exit) {
      this.state = "connected";
      return this.end(exit);
    }
    this.state = "ended";
    const survived = this.o.agentPid !== null && sameProcessAlive(this.o.agentPid, this.o.agentStart);
    if (survived) this.signalAgent(ORPHAN_KILL_GRACE_MS);
    await this.o.mirror.finalPass();
    const lost = survived
      ? `its host process (pid ${this.o.host.pid}) vanished; the program (pid ${this.o.agentPid}) was terminated because its output could no longer be recorded`
      : `its host process (pid ${this.o.host.pid}) and the program (pid ${this.o.agentPid ?? "unknown"}) are gone without recording an exit (killed, or the machine restarted)`;
    this.o.log("warn", `agent ${this.o.id} is lost: ${lost}`);
    this.settle({ code: null, signal: null, reason: null, endedAt: new Date().toISOString(), lost });
  }

  private signalAgent(graceMs: number): void {
    const { agentPid, agentStart } = this.o;
    if (agentPid === null || !sameProcessAlive(agentPid, agentStart)) return;
    signalGroup(agentPid, "SIGTERM");
    setTimeout(() => {
      if (sameProcessAlive(agentPid, agentStart)) signalGroup(agentPid, "SIGKILL");
    }, graceMs).unref();
  }

  private failPending(why: string): void {
    for (const p of this.pending.values()) p.rej(new AgentError("NOT_RUNNING", `agent ${this.o.id}: ${why}`));
    this.pending.clear();
  }
}

async function connectChecked(o: HostClientOptions, timeoutMs: number): Promise<Connection> {
  const conn = await connectOnce(o.host.socket, timeoutMs);
  if (o.agentPid === null) {
    o.agentPid = conn.hello.pid;
    o.agentStart = procStartTime(conn.hello.pid);
  } else if (conn.hello.pid !== o.agentPid) {
    conn.sock.destroy();
    throw new Error(`the host at ${o.host.socket} runs pid ${conn.hello.pid}, not the agent's pid ${o.agentPid}`);
  }
  return conn;
}

interface Connection {
  sock: Socket;
  decoder: FrameDecoder;
  hello: Hello;
  /** Frames that arrived with the hello. */
  rest: Frame[];
}

/** Connect and read the hello (bounded). */
export function connectOnce(path: string, timeoutMs: number): Promise<Connection> {
  return new Promise((res, rej) => {
    const sock = createConnection(path);
    const decoder = new FrameDecoder();
    const fail = (err: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      rej(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`no hello from the host at ${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.on("error", fail);
    const onData = (chunk: Buffer): void => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        return fail(err as Error);
      }
      if (frames.length === 0) return;
      const first = frames[0]!;
      const h = first.kind === KIND_JSON ? (first.msg as Partial<Hello> & { t?: string; v?: number }) : null;
      if (
        h?.t !== "hello" ||
        h.v !== HOST_PROTOCOL_VERSION ||
        !Number.isInteger(h.pid) ||
        !Number.isInteger(h.nextSeq)
      ) {
        return fail(new Error(`the host at ${path} does not speak host protocol version ${HOST_PROTOCOL_VERSION}`));
      }
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("error", fail);
      sock.on("error", () => undefined);
      res({ sock, decoder, hello: h as Hello, rest: frames.slice(1) });
    };
    sock.on("data", onData);
  });
}
