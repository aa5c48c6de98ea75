/**
 * One relay-side WebSocket, with the accounting every leg needs: byte/frame metrics, the close code the relay sent
 * (first one wins), outbound drain notifications for backpressure, read holds, and liveness for keepalive.
 * Runtime-neutral: the socket is a RelaySocket (socket.ts).
 *
 * Read holds on a runtime that cannot pause a socket (workerd): messages that arrive while held are queued here and
 * handed to the session on release, in order. The queue is bounded by the outbound cap (maxBufferedBytes): a peer
 * that overruns it is closed with 4006 — explicit, never a drop.
 */
import { closeReason } from "../close-codes.js";
import type { RelayMetrics, Role } from "./metrics.js";
import type { RelaySocket } from "./socket.js";

export type MessageHandler = (data: Uint8Array, isBinary: boolean) => void;

export class Peer {
  /** Last message in either direction (ms since epoch), for the idle timeout. */
  lastActivity = Date.now();
  /** Called after each send completes (the buffer shrank): sessions re-check their watermarks here. */
  onDrain: (() => void) | undefined;
  /** The session's message handler (set by the session); inbound() calls it unless the socket is held. */
  onMessage: MessageHandler | undefined;
  /** Called when the held-message queue overflows (only on runtimes without pause). */
  onQueueOverflow: (() => void) | undefined;
  private sentCode: number | undefined;
  private readonly holds = new Set<string>();
  private awaitingPong = false;
  private missedPings = 0;
  private progressed = false;
  /** Messages read while held, on a runtime that cannot stop reading. */
  private heldQueue: Array<[Uint8Array, boolean]> = [];
  private heldBytes = 0;

  constructor(
    readonly socket: RelaySocket,
    readonly role: Role,
    private readonly metrics: RelayMetrics,
    /** Bound on heldQueue (bytes). */
    private readonly maxQueuedBytes = Number.POSITIVE_INFINITY,
    /** Sockets rebuilt after hibernation were counted when they first opened. */
    restored = false,
  ) {
    if (restored) metrics.restored(role);
    else metrics.opened(role);
  }

  get isOpen(): boolean {
    return this.socket.isOpen && this.sentCode === undefined;
  }

  /** The close code the relay sent, if it initiated the close. */
  get closeCodeSent(): number | undefined {
    return this.sentCode;
  }

  /** Bytes queued for this socket and not yet handed to the kernel. */
  get buffered(): number {
    return this.socket.bufferedAmount;
  }

  /** One message read from the socket: to the session now, or queued while held (runtimes without pause). */
  inbound(data: Uint8Array, isBinary: boolean): void {
    if (this.holds.size > 0 && !this.socket.pause && this.sentCode === undefined) {
      this.heldBytes += data.length;
      if (this.heldBytes > this.maxQueuedBytes) {
        this.heldQueue = [];
        this.heldBytes = 0;
        return this.onQueueOverflow?.();
      }
      this.heldQueue.push([data, isBinary]);
      return;
    }
    this.onMessage?.(data, isBinary);
  }

  /** Account an inbound message (the session calls this first thing in its message handler). */
  received(bytes: number): void {
    this.metrics.frameIn(this.role, bytes);
    this.lastActivity = Date.now();
    this.alive();
  }

  /** The peer answered a ping. */
  pong(): void {
    this.alive();
  }

  /** Queue one binary message. Returns false (and sends nothing) once the socket is closing. */
  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.metrics.frameOut(this.role, bytes.length);
    this.lastActivity = Date.now();
    this.socket.send(bytes, (err) => {
      if (!err) this.progressed = true;
      this.onDrain?.();
    });
    return true;
  }

  /** Close with a relay code (4000–4099) or one relayed from the daemon. Only the first close counts. */
  close(code: number, reason: string = closeReason[code] ?? ""): void {
    if (this.sentCode !== undefined || !this.socket.isOpen) return;
    this.noteClose(code);
    this.socket.close(code, reason);
    // The close handshake needs the peer's close frame: a held socket would never read it and the peer would sit
    // in ws's 30 s close timeout. Anything else read from now on is ignored by the closed session.
    if (this.holds.size > 0) {
      this.holds.clear();
      this.heldQueue = [];
      this.heldBytes = 0;
      this.socket.resume?.();
    }
  }

  /** The runtime already closed the socket for this code (ws's oversize close): account it as ours. */
  noteClose(code: number): void {
    if (this.sentCode !== undefined) return;
    this.sentCode = code;
    this.metrics.closeSent(code);
  }

  /** Drop the TCP connection without a close handshake (keepalive failure, shutdown deadline). */
  terminate(): void {
    this.socket.terminate();
  }

  /**
   * Stop reading from this socket for `reason` (TCP backpressure onto the sender). Several reasons may hold a
   * socket at once; it is read again only when all are released.
   */
  hold(reason: string): void {
    if (this.holds.size === 0) this.socket.pause?.();
    this.holds.add(reason);
  }

  release(reason: string): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    this.socket.resume?.();
    // Replay what was read while held; a handler may hold again part way, which re-queues the rest in order.
    const queued = this.heldQueue;
    this.heldQueue = [];
    this.heldBytes = 0;
    for (const [data, isBinary] of queued) this.inbound(data, isBinary);
  }

  get isHeld(): boolean {
    return this.holds.size > 0;
  }

  /** Messages queued while held (runtimes without pause): a relay must stay in memory while any are. */
  get queuedBytes(): number {
    return this.heldBytes;
  }

  /**
   * One keepalive period: returns false when the socket missed two pings in a row and should be dropped.
   * Outbound progress also counts as life, so a slow reader whose pong waits behind megabytes of data (the
   * ping is queued after them) is not mistaken for a dead one. A socket we stopped reading cannot deliver its
   * pong, so it is not counted against while held. A runtime that cannot ping is never timed out here.
   */
  keepaliveTick(): boolean {
    if (!this.socket.ping || !this.socket.isOpen) return true;
    if (this.isHeld) return true;
    if (this.awaitingPong && !this.progressed) {
      this.missedPings++;
      if (this.missedPings >= 2) return false;
    } else {
      this.missedPings = 0;
    }
    this.progressed = false;
    this.awaitingPong = true;
    this.socket.ping();
    return true;
  }

  /** Remove the accounting for this socket; called once when it closed. */
  closed(receivedCode: number): void {
    this.metrics.closed(this.role, receivedCode);
    this.onDrain = undefined;
    this.onMessage = undefined;
    this.heldQueue = [];
    this.heldBytes = 0;
  }

  private alive(): void {
    this.awaitingPong = false;
    this.missedPings = 0;
  }
}
