/**
 * TerminalSession — a live view of (and, in the writer lane, the keyboard of) a terminal agent. Returned by
 * `DaemonClient.attach(id, { cols, rows, readOnly, take })`; the CLI's `paseo attach` and the browser terminal both
 * use it. Browser-safe: no Node built-ins.
 *
 *   const term = await client.attach(id, { cols: 120, rows: 40 });
 *   term.onData((bytes) => xterm.write(bytes));        // first the screen snapshot, then live output
 *   xterm.onData((keys) => void term.write(keys));
 *   term.on("lane", ({ lane, reason }) => …);          // "taken": another client took control, you now watch
 *   const ended = await term.done;                      // AgentInfo when the agent ended, null after detach()
 *
 * Output: the first data is the screen snapshot (write it to a freshly reset terminal), then every byte of the
 * agent's log after it, in order, each exactly once — checked by seq (a gap is LogGapError). With reconnect on in
 * the DaemonClient, a dropped connection re-attaches with `since` = last seq + 1: nothing lost, nothing repeated.
 * Data is held until the first consumer (onData or async iteration) arrives, so none is missed between attach()
 * and registering; a consumer that falls more than MAX_PENDING_BYTES behind makes the session stop the stream and
 * resume it from the next seq once it has caught up (the daemon's log is the buffer).
 */
import type { StreamChunk } from "../protocol/frame.js";
import { PaseoError } from "../protocol/errors.js";
import { toBase64Url } from "../protocol/encoding.js";
import { validateResult } from "../protocol/rpc-results.js";
import type { AgentInfo, RpcEvent, TerminalAttachResult, TerminalLane, TerminalScreen } from "../protocol/rpc.js";
import { Emitter } from "./emitter.js";
import { RpcError } from "./errors.js";
import { allocateSub, LogGapError } from "./logs.js";
import { isPermanent } from "./permanent.js";
import type { Session } from "./session.js";
import { ByteQueue } from "./byte-queue.js";
import { takeBatch, type InputItem } from "./terminal-input.js";
import type { AttachOptions, LaneChange, TerminalHost, TerminalSessionState } from "./terminal-types.js";

export type { AttachOptions, LaneChange, TerminalHost, TerminalSessionState } from "./terminal-types.js";

type Events = {
  lane: [LaneChange];
  resize: [{ cols: number; rows: number }];
  exit: [AgentInfo];
  state: [TerminalSessionState];
};

/** Unconsumed output above this makes the session pause the stream (see the file comment). */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;
const RATE_LIMIT_RETRY_MS = 100;
/** Input not yet accepted by the daemon (e.g. typed while reconnecting) beyond this is refused: INPUT_QUEUE_FULL. */
export const MAX_QUEUED_INPUT_BYTES = 4 * 1024 * 1024;

export class TerminalSession extends Emitter<Events> {
  lane: TerminalLane = "watcher";
  writer = false;
  cols = 0;
  rows = 0;
  agent!: AgentInfo;
  /** The snapshot this session started from (null when it started with `since`). */
  screen: TerminalScreen | null = null;
  /** Resolves with the final AgentInfo when the agent ended, with null after detach(); rejects with a named error. */
  readonly done: Promise<AgentInfo | null>;
  private currentState: TerminalSessionState = "attached";
  private session: Session | undefined;
  private sub = 0;
  private nextSeq = 1;
  private suspended = false;
  private readonly dataListeners: ((data: Uint8Array) => void)[] = [];
  private readonly pending = new ByteQueue();
  private readonly input: InputItem[] = [];
  private pumping = false;
  private recovering = false;
  /** Removes the local handler of the current sub (replaced at every re-attach). */
  private dropLocal: (() => void) | undefined;
  private localSize: { cols: number; rows: number } | undefined;
  private settle!: { resolve(v: AgentInfo | null): void; reject(e: unknown): void };

  constructor(
    private readonly host: TerminalHost,
    readonly id: string,
    private readonly options: AttachOptions,
  ) {
    super();
    if (options.cols !== undefined && options.rows !== undefined)
      this.localSize = { cols: options.cols, rows: options.rows };
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // observed through `done` or the iterator; never an unhandled rejection
  }

  get state(): TerminalSessionState {
    return this.currentState;
  }

  /** Output received but not yet consumed (bounded by about MAX_PENDING_BYTES: then the stream pauses). */
  get pendingBytes(): number {
    return this.pending.bytes;
  }

  /** Internal to DaemonClient.attach: the first attachment (errors reject attach()). */
  async start(): Promise<void> {
    await this.attachOn(await this.host.sessionForStreaming(), this.options.since, this.options.take === true);
  }

  /** Receive output (the snapshot first). Returns an unsubscribe function. */
  onData(listener: (data: Uint8Array) => void): () => void {
    this.dataListeners.push(listener);
    this.drain();
    return () => {
      const i = this.dataListeners.indexOf(listener);
      if (i >= 0) this.dataListeners.splice(i, 1);
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const item = this.pending.shift();
      if (item) {
        yield item;
        if (this.suspended && this.pending.bytes === 0) void this.resumeStream();
        continue;
      }
      if (this.currentState === "ended" || this.currentState === "detached") return;
      if (this.currentState === "failed") await this.done; // rethrows the named error
      await this.pending.wait();
    }
  }

  /** Send keystrokes / paste to the agent (writer lane only: the daemon answers NOT_WRITER otherwise). */
  write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (bytes.length === 0) return Promise.resolve();
    const queued = this.input.reduce((n, w) => n + w.bytes.length, 0);
    if (queued + bytes.length > MAX_QUEUED_INPUT_BYTES) {
      return Promise.reject(
        new PaseoError(
          "INPUT_QUEUE_FULL",
          `more than ${MAX_QUEUED_INPUT_BYTES} bytes of input are waiting for agent ${this.id}; wait for earlier writes`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.input.push({ bytes, resolve, reject });
      void this.pumpInput();
    });
  }

  /** Your terminal's new size: applied when you are the writer, remembered otherwise (for take and re-attach). */
  async resize(cols: number, rows: number): Promise<void> {
    this.localSize = { cols, rows };
    if (this.lane !== "writer" || this.isOver()) return;
    const info = validateResult("terminal.resize", await this.request("terminal.resize", { id: this.id, cols, rows }));
    this.cols = info.cols ?? cols;
    this.rows = info.rows ?? rows;
  }

  /** Take the writer lane (the previous writer is told); then your size is applied. */
  async take(): Promise<void> {
    const r = validateResult("terminal.take", await this.request("terminal.take", { sub: this.sub }));
    this.lane = r.lane;
    this.writer = r.writer;
    if (this.localSize && (this.localSize.cols !== this.cols || this.localSize.rows !== this.rows))
      await this.resize(this.localSize.cols, this.localSize.rows);
  }

  /** Give the writer lane up and keep watching. */
  async release(): Promise<void> {
    const r = validateResult("terminal.release", await this.request("terminal.release", { sub: this.sub }));
    this.lane = r.lane;
    this.writer = r.writer;
  }

  /** Stop watching; the agent keeps running (and a held writer lane is freed). */
  async detach(): Promise<void> {
    if (this.isOver()) return;
    const session = this.session;
    this.finish("detached", null);
    if (session && !session.closed)
      await session.request("agents.unsubscribe", { sub: this.sub }, this.host.requestTimeoutMs).catch(() => {});
  }

  private isOver(): boolean {
    return this.currentState === "ended" || this.currentState === "detached" || this.currentState === "failed";
  }

  private request(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (this.isOver())
      return Promise.reject(
        new PaseoError("TERMINAL_CLOSED", `the attachment to agent ${this.id} is over (${this.currentState})`),
      );
    if (!this.session || this.session.closed)
      return Promise.reject(new PaseoError("TERMINAL_RECONNECTING", `reconnecting to agent ${this.id}; try again`));
    return this.session.request(method, params, this.host.requestTimeoutMs);
  }

  /** One terminal.attach on `session`. Chunks and events that arrive before the response are held, then replayed. */
  private async attachOn(session: Session, since: number | undefined, take: boolean): Promise<void> {
    const sub = allocateSub();
    const early: (() => void)[] = [];
    let ready = false;
    const unsubscribe = session.subscribe(sub, {
      onChunk: (c) => (ready ? this.onChunk(sub, c) : early.push(() => this.onChunk(sub, c))),
      onEvent: (e) => (ready ? this.onEvent(session, sub, e) : early.push(() => this.onEvent(session, sub, e))),
    });
    const params: Record<string, unknown> = { id: this.id, sub, mode: this.options.readOnly ? "watch" : "control" };
    if (take) params.take = true;
    if (this.localSize) Object.assign(params, this.localSize);
    if (since !== undefined) params.since = since;
    let result: TerminalAttachResult;
    try {
      result = validateResult(
        "terminal.attach",
        await session.request("terminal.attach", params, this.host.requestTimeoutMs),
      );
    } catch (err) {
      unsubscribe();
      throw err;
    }
    if (this.isOver()) {
      // detach() (or a failure) happened while this attach was in flight: undo it on the daemon too
      unsubscribe();
      session.request("agents.unsubscribe", { sub }, this.host.requestTimeoutMs).catch(() => {});
      return;
    }
    this.dropLocal?.();
    this.dropLocal = unsubscribe;
    this.session = session;
    this.sub = sub;
    this.agent = result.agent;
    this.cols = result.agent.cols ?? 0;
    this.rows = result.agent.rows ?? 0;
    const before = { lane: this.lane, writer: this.writer };
    this.lane = result.lane;
    this.writer = result.writer;
    this.nextSeq = result.fromSeq;
    if (result.screen) {
      this.screen = result.screen;
      this.deliver(new TextEncoder().encode(result.screen.data));
    }
    this.suspended = false;
    this.setState("attached");
    ready = true;
    if (since !== undefined && (before.lane !== this.lane || before.writer !== this.writer)) {
      this.emit("lane", { lane: this.lane, writer: this.writer, reason: "attached" }); // changed while we were away
    }
    for (const f of early) f();
    void this.pumpInput();
  }

  private onChunk(sub: number, chunk: StreamChunk): void {
    if (sub !== this.sub || this.suspended || this.isOver()) return;
    if (chunk.seq !== this.nextSeq) return this.fail(new LogGapError(this.nextSeq, chunk.seq));
    this.nextSeq = chunk.seq + 1;
    this.deliver(chunk.data);
  }

  private onEvent(session: Session, sub: number, e: RpcEvent): void {
    if (this.isOver()) return;
    if (e.sub === -1 || session.closed) {
      if (session === this.session)
        void this.recover(session.closeError ?? new PaseoError("CONNECTION_LOST", "connection lost"));
      return;
    }
    if (sub !== this.sub) return;
    // A paused stream's end or error is stale: resumeStream() re-attaches at nextSeq and learns the truth there.
    if (this.suspended && (e.event === "end" || e.event === "error")) return;
    switch (e.event) {
      case "lane":
        this.lane = e.lane ?? "watcher";
        this.writer = e.writer === true;
        this.emit("lane", { lane: this.lane, writer: this.writer, reason: e.reason ?? "attached" });
        break;
      case "resize":
        this.cols = e.cols ?? this.cols;
        this.rows = e.rows ?? this.rows;
        this.emit("resize", { cols: this.cols, rows: this.rows });
        break;
      case "end":
        if (e.nextSeq !== undefined && e.nextSeq !== this.nextSeq)
          return this.fail(new LogGapError(this.nextSeq, e.nextSeq));
        if (e.agent) this.agent = e.agent;
        this.lane = "watcher";
        this.writer = false;
        this.finish("ended", this.agent);
        this.emit("exit", this.agent);
        break;
      case "error":
        this.fail(new PaseoError(e.error?.code ?? "STREAM_ERROR", e.error?.message ?? "the terminal stream failed"));
        break;
    }
  }

  /** The connection dropped: wait for DaemonClient to reconnect (if it does) and resume from the next seq. */
  private async recover(error: PaseoError): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      await this.reattach(error);
    } finally {
      this.recovering = false;
    }
  }

  private async reattach(error: PaseoError): Promise<void> {
    this.setState("reconnecting");
    let err = error;
    for (;;) {
      if (this.isOver()) return;
      let session: Session | undefined;
      try {
        session = await this.host.nextSession(err);
        if (this.isOver()) return;
        await this.attachOn(session, this.nextSeq, false);
        return;
      } catch (e) {
        const named = e instanceof PaseoError ? e : new PaseoError("CONNECTION_LOST", String(e));
        if (session?.closed && !isPermanent(named)) {
          err = session.closeError ?? named;
          continue;
        }
        return this.fail(named);
      }
    }
  }

  /** Too much unconsumed output: stop the daemon's stream; resumeStream() picks it up at nextSeq. */
  private suspendStream(): void {
    if (this.suspended) return;
    this.suspended = true;
    this.session?.request("agents.unsubscribe", { sub: this.sub }, this.host.requestTimeoutMs).catch(() => {});
  }

  private async resumeStream(): Promise<void> {
    if (!this.suspended || this.isOver() || !this.session) return;
    const session = this.session;
    this.suspended = false;
    this.sub = -2; // ignore the old sub until the new one is in place
    try {
      await this.attachOn(session, this.nextSeq, false);
    } catch (e) {
      if (session.closed) return void this.recover(session.closeError ?? (e as PaseoError));
      this.fail(e as PaseoError);
    }
  }

  private deliver(data: Uint8Array): void {
    if (this.dataListeners.length > 0 && this.pending.bytes === 0) {
      for (const l of [...this.dataListeners]) l(data);
      return;
    }
    this.pending.push(data);
    if (this.dataListeners.length > 0) this.drain();
    else if (this.pending.bytes > MAX_PENDING_BYTES) this.suspendStream();
  }

  private drain(): void {
    if (this.dataListeners.length === 0) return;
    for (let item = this.pending.shift(); item; item = this.pending.shift())
      for (const l of [...this.dataListeners]) l(item);
    if (this.suspended) void this.resumeStream();
  }

  /** Input goes out one terminal.input at a time (keystrokes typed meanwhile are coalesced), in order. */
  private async pumpInput(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.input.length > 0 && !this.isOver()) {
        if (!this.session || this.session.closed || this.currentState !== "attached") return; // re-attach resumes
        const batch = takeBatch(this.input);
        try {
          await this.session.request(
            "terminal.input",
            { id: this.id, dataB64: toBase64Url(batch.bytes) },
            this.host.requestTimeoutMs,
          );
          batch.ok();
        } catch (err) {
          if (err instanceof RpcError && err.code === "INPUT_RATE_LIMITED") {
            batch.undo();
            await new Promise((r) => setTimeout(r, RATE_LIMIT_RETRY_MS));
            continue;
          }
          if (this.session?.closed) {
            batch.undo(); // sent again after the re-attach
            return;
          }
          batch.fail(err);
        }
      }
      if (this.isOver())
        for (const w of this.input.splice(0))
          w.reject(new PaseoError("TERMINAL_CLOSED", `the attachment to agent ${this.id} is over`));
    } finally {
      this.pumping = false;
    }
  }

  private setState(state: TerminalSessionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit("state", state);
  }

  private finish(state: "ended" | "detached", agent: AgentInfo | null): void {
    this.setState(state);
    this.pending.wake();
    this.settle.resolve(agent);
    void this.pumpInput();
  }

  private fail(err: PaseoError): void {
    if (this.isOver()) return;
    this.session?.request("agents.unsubscribe", { sub: this.sub }, this.host.requestTimeoutMs).catch(() => {});
    this.setState("failed");
    this.settle.reject(err);
    this.pending.wake();
    void this.pumpInput();
  }
}
