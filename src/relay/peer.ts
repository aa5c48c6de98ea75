/**
 * One relay-side WebSocket, with the accounting every leg needs: byte/frame metrics, the close code the relay sent
 * (first one wins), outbound drain notifications for backpressure, read holds, and liveness for keepalive.
 * Oversized messages are closed with 4005 by RelayWebSocket (relay-websocket.ts); the peer only accounts for it.
 */
import { WebSocket } from "ws";
import { CloseCode, closeReason } from "../protocol/close-codes.js";
import type { RelayMetrics, Role } from "./metrics.js";
import type { RelayWebSocket } from "./relay-websocket.js";

export class Peer {
  /** Last message in either direction (ms since epoch), for the idle timeout. */
  lastActivity = Date.now();
  /** Called after each send completes (the buffer shrank): sessions re-check their watermarks here. */
  onDrain: (() => void) | undefined;
  private sentCode: number | undefined;
  private readonly holds = new Set<string>();
  private awaitingPong = false;
  private missedPings = 0;
  private progressed = false;

  constructor(
    readonly ws: RelayWebSocket,
    readonly role: Role,
    private readonly metrics: RelayMetrics,
  ) {
    ws.onFrameTooLarge = () => this.noteClose(CloseCode.FRAME_TOO_LARGE);
    ws.on("pong", () => this.alive());
    metrics.opened(role);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.sentCode === undefined;
  }

  /** The close code the relay sent, if it initiated the close. */
  get closeCodeSent(): number | undefined {
    return this.sentCode;
  }

  /** Bytes queued for this socket and not yet handed to the kernel. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  /** Account an inbound message (the session calls this first thing in its message handler). */
  received(bytes: number): void {
    this.metrics.frameIn(this.role, bytes);
    this.lastActivity = Date.now();
    this.alive();
  }

  /** Queue one binary message. Returns false (and sends nothing) once the socket is closing. */
  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.metrics.frameOut(this.role, bytes.length);
    this.lastActivity = Date.now();
    this.ws.send(bytes, { binary: true }, (err) => {
      if (!err) this.progressed = true;
      this.onDrain?.();
    });
    return true;
  }

  /** Close with a relay code (4000–4099) or one relayed from the daemon. Only the first close counts. */
  close(code: number, reason: string = closeReason[code] ?? ""): void {
    if (this.sentCode !== undefined || this.ws.readyState !== WebSocket.OPEN) return;
    this.noteClose(code);
    this.ws.close(code, reason);
    // The close handshake needs the peer's close frame: a held socket would never read it and the peer would sit
    // in ws's 30 s close timeout. Anything else read from now on is ignored by the closed session.
    if (this.holds.size > 0) {
      this.holds.clear();
      this.ws.resume();
    }
  }

  /** Drop the TCP connection without a close handshake (keepalive failure, shutdown deadline). */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Stop reading from this socket for `reason` (TCP backpressure onto the sender). Several reasons may hold a
   * socket at once; it is read again only when all are released.
   */
  hold(reason: string): void {
    if (this.holds.size === 0) this.ws.pause();
    this.holds.add(reason);
  }

  release(reason: string): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    this.ws.resume();
  }

  get isHeld(): boolean {
    return this.holds.size > 0;
  }

  /**
   * One keepalive period: returns false when the socket missed two pings in a row and should be dropped.
   * Outbound progress also counts as life, so a slow reader whose pong waits behind megabytes of data (the
   * ping is queued after them) is not mistaken for a dead one. A socket we stopped reading cannot deliver its
   * pong, so it is not counted against while held.
   */
  keepaliveTick(): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return true;
    if (this.isHeld) return true;
    if (this.awaitingPong && !this.progressed) {
      this.missedPings++;
      if (this.missedPings >= 2) return false;
    } else {
      this.missedPings = 0;
    }
    this.progressed = false;
    this.awaitingPong = true;
    this.ws.ping();
    return true;
  }

  /** Remove the accounting for this socket; called once from its 'close' event. */
  closed(receivedCode: number): void {
    this.metrics.closed(this.role, receivedCode);
    this.onDrain = undefined;
  }

  private alive(): void {
    this.awaitingPong = false;
    this.missedPings = 0;
  }

  private noteClose(code: number): void {
    if (this.sentCode !== undefined) return;
    this.sentCode = code;
    this.metrics.closeSent(code);
  }
}
