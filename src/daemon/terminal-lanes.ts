/**
 * Writer/watcher lanes of terminal agents, daemon-wide (one registry shared by every connection).
 *
 * Each terminal agent has at most one *writer*: the attachment whose input and size reach the PTY. Every other
 * attachment *watches*. Rules (docs/protocol.md §8 "Terminals"):
 *   - the first attachment in "control" mode gets the free lane; later ones watch;
 *   - `take` moves the lane to a control attachment; the previous writer is told ("taken") and watches;
 *   - `release` gives the lane up; the writer's detach (or its connection's end) frees it; a free lane stays free
 *     until some control attachment takes it (nobody is promoted behind the user's back);
 *   - "watch" attachments (read-only clients) never hold the lane: their take is READ_ONLY;
 *   - once the agent has ended nobody writes ("ended").
 * An attachment gets a lane event whenever its own lane, or whether anyone holds the lane, changes — except for the
 * change its own request caused, which it learns from that request's response.
 *
 * Pure bookkeeping: no I/O, no agent manager. The connection layer wires it to the manager (running state,
 * resize and end events) and to the wire.
 */
import type { LaneReason, TerminalLane } from "../protocol/rpc.js";
import { AgentError } from "./agents/errors.js";
import { TerminalError } from "./terminal-errors.js";

export interface LaneListener {
  lane(lane: TerminalLane, writer: boolean, reason: LaneReason): void;
  resize(cols: number, rows: number): void;
}

export class Attachment {
  lane: TerminalLane = "watcher";
  detached = false;
  constructor(
    readonly agentId: string,
    /** The connection that owns this attachment (identity only): agents.input checks it. */
    readonly owner: object,
    /** false for "watch" (read-only) attachments. */
    readonly control: boolean,
    readonly listener: LaneListener,
  ) {}
}

interface Terminal {
  writer: Attachment | null;
  readonly all: Set<Attachment>;
  ended: boolean;
}

export class TerminalLanes {
  private readonly terminals = new Map<string, Terminal>();

  /** Register an attachment; `running` = the agent is still running (an ended agent has no writer). */
  attach(
    agentId: string,
    owner: object,
    opts: { control: boolean; take?: boolean; running: boolean },
    listener: LaneListener,
  ): Attachment {
    const a = new Attachment(agentId, owner, opts.control, listener);
    let t = this.terminals.get(agentId);
    if (!t) {
      t = { writer: null, all: new Set(), ended: false };
      this.terminals.set(agentId, t);
    }
    if (!opts.running) t.ended = true;
    t.all.add(a);
    if (opts.control && !t.ended && (opts.take || !t.writer)) this.setWriter(t, a, a);
    return a;
  }

  take(a: Attachment): void {
    const t = this.live(a);
    if (!a.control)
      throw new TerminalError(
        "READ_ONLY",
        `this attachment to agent ${a.agentId} is read-only ("watch"); re-attach with control to write`,
      );
    if (t.ended) throw new AgentError("NOT_RUNNING", `agent ${a.agentId} has ended: there is nothing to write to`);
    if (t.writer !== a) this.setWriter(t, a, a);
  }

  release(a: Attachment): void {
    const t = this.live(a);
    if (t.writer === a) this.setWriter(t, null, a);
  }

  /** The attachment is gone (unsubscribe, stream end, connection closed). Idempotent. */
  detach(a: Attachment): void {
    if (a.detached) return;
    a.detached = true;
    const t = this.terminals.get(a.agentId);
    if (!t) return;
    if (t.writer === a) this.setWriter(t, null, a);
    t.all.delete(a);
    if (t.all.size === 0) this.terminals.delete(a.agentId);
  }

  /** The agent ended: the lane is gone for good; everyone is told once. */
  ended(agentId: string): void {
    const t = this.terminals.get(agentId);
    if (!t || t.ended) return;
    t.ended = true;
    t.writer = null;
    for (const a of t.all) {
      a.lane = "watcher";
      a.listener.lane("watcher", false, "ended");
    }
  }

  resized(agentId: string, cols: number, rows: number): void {
    for (const a of this.terminals.get(agentId)?.all ?? []) a.listener.resize(cols, rows);
  }

  isWriter(a: Attachment): boolean {
    return !a.detached && this.terminals.get(a.agentId)?.writer === a;
  }

  /** Whether anyone holds the lane of this agent. */
  hasWriter(agentId: string): boolean {
    return !!this.terminals.get(agentId)?.writer;
  }

  /** The owner (connection) of the agent's writer lane, if any. */
  writerOwner(agentId: string): object | undefined {
    return this.terminals.get(agentId)?.writer?.owner;
  }

  /** Number of live attachments of an agent (tests, metrics). */
  count(agentId: string): number {
    return this.terminals.get(agentId)?.all.size ?? 0;
  }

  private live(a: Attachment): Terminal {
    const t = a.detached ? undefined : this.terminals.get(a.agentId);
    if (!t)
      throw new TerminalError(
        "NOT_ATTACHED",
        `this subscription is no longer attached to agent ${a.agentId}; attach again`,
      );
    return t;
  }

  /** Move the lane to `next` (null = free) and tell everyone whose view changed, except `cause`. */
  private setWriter(t: Terminal, next: Attachment | null, cause: Attachment): void {
    const prev = t.writer;
    if (prev === next) return;
    const hadWriter = prev !== null;
    t.writer = next;
    if (prev) prev.lane = "watcher";
    if (next) next.lane = "writer";
    for (const a of t.all) {
      if (a === cause) continue;
      if (a === prev) a.listener.lane("watcher", next !== null, next ? "taken" : "released");
      else if (a === next) a.listener.lane("writer", true, "took");
      else if (hadWriter !== (next !== null))
        a.listener.lane(a.lane, next !== null, next ? "writer-joined" : "writer-left");
    }
  }
}
