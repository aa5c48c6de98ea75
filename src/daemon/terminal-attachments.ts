/**
 * The terminal methods of one client connection (docs/protocol.md §8 "Terminals"): terminal.attach / input /
 * resize / take / release. An attachment is a log subscription (ConnectionStreams: the same STREAM messages, the
 * same backpressure, the same resume by seq) plus a lane in the daemon-wide TerminalLanes registry. Lane and
 * size changes go out as events on the attachment's `sub`; the agent's end is the subscription's "end" event,
 * which carries the final AgentInfo after the last byte.
 *
 * Attach cost is bounded by the screen, not the history: a fresh attach gets manager.screen() (a serialized
 * snapshot plus the seq it reflects) and the stream continues from that seq; a resuming attach (`since`) gets no
 * snapshot and the stream continues from `since`.
 */
import type { AgentManager } from "./agents/index.js";
import { AgentError } from "./agents/errors.js";
import type { ConnectionStreams } from "./connection-streams.js";
import { fromBase64Url } from "../protocol/encoding.js";
import type { Params, Result, RpcEvent } from "../protocol/rpc.js";
import { ParamsError } from "../protocol/rpc-params.js";
import { InputLimiter } from "./terminal-input-limit.js";
import { notWriter, TerminalError } from "./terminal-errors.js";
import type { Attachment, TerminalLanes } from "./terminal-lanes.js";

/** Feed the registry from the manager: size changes and ends of terminal agents. Call once per daemon. */
export function bindLanes(agents: AgentManager, lanes: TerminalLanes): () => void {
  const onAgent = (info: Result<"agents.get">) => {
    if (!info.tty) return;
    if (info.state !== "running") lanes.ended(info.id);
    else if (info.cols !== null && info.rows !== null) lanes.resized(info.id, info.cols, info.rows);
  };
  agents.on("agent", onAgent);
  return () => agents.off("agent", onAgent);
}

export class TerminalAttachments {
  private readonly bySub = new Map<number, Attachment>();
  private readonly limiter = new InputLimiter();

  constructor(
    private readonly agents: AgentManager,
    private readonly lanes: TerminalLanes,
    private readonly streams: ConnectionStreams,
    private readonly sendEvent: (event: RpcEvent) => void,
  ) {}

  /**
   * Everything that can be refused is refused here (the refusal is the response). The caller sends `result`, then
   * calls begin(), so no STREAM chunk precedes the response.
   */
  async attach(p: Params<"terminal.attach">): Promise<{ result: Result<"terminal.attach">; begin(): void }> {
    const info = this.agents.get(p.id);
    if (!info.tty)
      throw new AgentError(
        "NOT_A_TERMINAL",
        `agent ${p.id} runs with pipes, not a terminal (start it with tty: true, \`paseo run --tty\`): follow it with agents.logs (\`paseo logs -f\`) and write with agents.input (\`paseo send\`)`,
      );
    this.streams.prepare(p.sub, p.id, p.since ?? 1);
    this.streams.reserve(p.sub);
    const sub = p.sub;
    const a = this.lanes.attach(
      p.id,
      this,
      { control: p.mode !== "watch", take: p.take, running: info.state === "running" },
      {
        lane: (lane, writer, reason) => this.sendEvent({ t: "evt", sub, event: "lane", lane, writer, reason }),
        resize: (cols, rows) => this.sendEvent({ t: "evt", sub, event: "resize", cols, rows }),
      },
    );
    this.bySub.set(sub, a);
    try {
      // The writer's size wins: resize before the snapshot, so the snapshot already has the new size.
      if (
        a.lane === "writer" &&
        p.cols !== undefined &&
        p.rows !== undefined &&
        (p.cols !== info.cols || p.rows !== info.rows)
      ) {
        await this.agents.resize(p.id, p.cols, p.rows).catch((err: unknown) => {
          if (!(err instanceof AgentError && err.code === "NOT_RUNNING")) throw err;
        });
      }
      const screen = p.since === undefined ? await this.agents.screen(p.id) : null;
      if (!this.streams.isReserved(sub) || this.bySub.get(sub) !== a)
        throw new TerminalError("NOT_ATTACHED", "unsubscribed while attaching");
      const fromSeq = screen ? screen.seq : p.since!;
      const result = {
        lane: a.lane,
        writer: this.lanes.hasWriter(p.id),
        agent: this.agents.get(p.id),
        screen,
        fromSeq,
      };
      return { result, begin: () => this.streams.start(sub, p.id, fromSeq, true, 0) };
    } catch (err) {
      this.detach(sub);
      this.streams.stop(sub);
      throw err;
    }
  }

  /** Input reaches the PTY only from the connection holding the writer lane, within the input bounds. */
  async input(p: Params<"terminal.input">): Promise<Result<"terminal.input">> {
    const data = fromBase64Url(p.dataB64);
    if (!data) throw new ParamsError(`"dataB64" is not valid base64url`);
    this.limiter.admit(data.length);
    this.assertWriter(p.id);
    return { bytes: await this.agents.sendInput(p.id, data) };
  }

  async resize(p: Params<"terminal.resize">): Promise<Result<"terminal.resize">> {
    this.assertWriter(p.id);
    return this.agents.resize(p.id, p.cols, p.rows);
  }

  take(p: Params<"terminal.take">): Result<"terminal.take"> {
    const a = this.attachment(p.sub);
    this.lanes.take(a);
    return { lane: a.lane, writer: this.lanes.hasWriter(a.agentId) };
  }

  release(p: Params<"terminal.release">): Result<"terminal.release"> {
    const a = this.attachment(p.sub);
    this.lanes.release(a);
    return { lane: a.lane, writer: this.lanes.hasWriter(a.agentId) };
  }

  /**
   * agents.input to a terminal agent: allowed when nobody holds the lane (scripts: `paseo send`) or this connection
   * does; refused with NOT_WRITER while another client is the writer.
   */
  checkPlainInput(id: string): void {
    const owner = this.lanes.writerOwner(id);
    if (owner !== undefined && owner !== this) throw notWriter(id, this.attachedTo(id));
  }

  /** The sub's stream is over (unsubscribe, end, error): its lane goes. Not a terminal sub → nothing. */
  detach(sub: number): void {
    const a = this.bySub.get(sub);
    if (!a) return;
    this.bySub.delete(sub);
    this.lanes.detach(a);
  }

  closeAll(): void {
    for (const sub of [...this.bySub.keys()]) this.detach(sub);
  }

  private attachment(sub: number): Attachment {
    const a = this.bySub.get(sub);
    if (!a)
      throw new TerminalError(
        "NOT_ATTACHED",
        `subscription ${sub} is not a terminal attachment on this connection; attach first`,
      );
    return a;
  }

  private attachedTo(id: string): boolean {
    for (const a of this.bySub.values()) if (a.agentId === id) return true;
    return false;
  }

  private assertWriter(id: string): void {
    if (this.lanes.writerOwner(id) !== this) throw notWriter(id, this.attachedTo(id));
  }
}
