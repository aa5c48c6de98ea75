/**
 * A workerd hibernatable WebSocket as the relay core's RelaySocket (src/protocol/relay/socket.ts). What workerd does
 * not offer is left out on purpose, and the core falls back explicitly:
 * - no pause/resume: the core queues a held client's messages, bounded by maxBufferedBytes (then 4006);
 * - no ping: Cloudflare's edge answers and sends protocol pings itself; only the idle timeout runs here;
 * - no bufferedAmount: always 0, so this relay never sends PAUSE (docs/relay-worker.md, "Limits that differ").
 * `remember` stores the session's routing record with the socket (serializeAttachment), so the Durable Object can
 * be evicted from memory while the socket stays open (hibernation) and rebuilt when the next message arrives.
 */
import type { RelaySocket, SessionRecord } from "../protocol/relay/socket.js";
import { OPEN, type WorkerSocket } from "./workerd.js";

export class WorkerRelaySocket implements RelaySocket {
  private closing = false;

  constructor(readonly ws: WorkerSocket) {}

  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === OPEN;
  }

  get bufferedAmount(): number {
    return 0;
  }

  send(data: Uint8Array, onSent: (err?: Error) => void): void {
    try {
      this.ws.send(data);
    } catch (err) {
      queueMicrotask(() => onSent(err instanceof Error ? err : new Error(String(err))));
      return;
    }
    queueMicrotask(() => onSent());
  }

  close(code: number, reason: string): void {
    this.closing = true;
    try {
      // A closing socket is no session any more: if the object hibernates before the peer answers, a wake-up must
      // not rebuild it (a replaced daemon would otherwise compete for the slot again).
      this.ws.serializeAttachment(null);
    } catch {
      // Already closed.
    }
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closed by the peer: nothing to send.
    }
  }

  /** workerd has no abort: a close frame is the most it can do, and the runtime reaps the connection. */
  terminate(): void {
    this.close(1000, "");
  }

  remember(state: SessionRecord): void {
    this.ws.serializeAttachment(state);
  }
}
