/**
 * The one thing a relay runtime must provide: a WebSocket as the relay core sees it. The Node relay wraps a `ws`
 * socket (src/relay/ws-socket.ts); the Worker relay wraps a workerd hibernatable WebSocket
 * (src/relay-worker/socket.ts). Everything else — routing, registration, mux, close codes, flow control, limits,
 * metrics — lives in this directory and runs unchanged on both.
 *
 * What a runtime cannot do is optional, and the core falls back explicitly (never silently):
 * - no `pause`/`resume` (workerd cannot stop reading a socket): Peer queues the held socket's messages itself, up to
 *   the outbound cap, then closes it with 4006;
 * - no `ping` (workerd answers pings but cannot send them; Cloudflare's edge keeps the TCP side alive): keepalive
 *   pings are skipped, the idle timeout still applies;
 * - `bufferedAmount` always 0 (workerd does not expose it): the relay never sees a slow reader, so it never sends
 *   PAUSE; the runtime buffers instead (docs/relay-worker.md, "Limits that differ").
 */
export interface RelaySocket {
  /** The socket is open (not closing, not closed). */
  readonly isOpen: boolean;
  /** Bytes queued for the peer and not yet handed to the kernel; 0 where the runtime does not tell. */
  readonly bufferedAmount: number;
  /** Queue one binary message; `onSent` runs once the runtime took it (err when the socket failed). */
  send(data: Uint8Array, onSent: (err?: Error) => void): void;
  /** Start the close handshake with this code and reason. */
  close(code: number, reason: string): void;
  /** Drop the connection without a handshake (keepalive failure, shutdown deadline). */
  terminate(): void;
  /** Stop reading (TCP backpressure onto the sender), and start again. Absent: Peer queues instead. */
  pause?(): void;
  resume?(): void;
  /** Send a WebSocket ping. Absent: no keepalive pings on this runtime. */
  ping?(): void;
  /**
   * Remember this session's routing state with the socket, so a runtime that evicts the relay from memory while
   * sockets stay open (Durable Object hibernation) can rebuild the session. Absent: nothing to remember.
   */
  remember?(state: SessionRecord): void;
}

/** What a session needs to be rebuilt after hibernation (src/relay-worker). Only ids and opaque tags. */
export type SessionRecord =
  | {
      role: "server";
      serverId: string;
      source: string;
      taggedOpen: boolean;
      tagKey: string;
      /** The next clientId to hand out: ids are never reused on one daemon socket, hibernation or not. */
      nextClientId: number;
    }
  | { role: "client"; serverId: string; source: string; clientId: number };
