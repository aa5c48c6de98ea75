/**
 * ClientPipe: one client's byte pipe as the daemon sees it — a multiplexed slot on the relay socket, or a direct
 * loopback WebSocket. Connection logic (handshake, RPC) is written once against this interface.
 */
export interface ClientPipe {
  /** For logs only, e.g. "relay#12" or "local#3". Never contains secrets. */
  readonly label: string;
  /**
   * Who is on the other end, for fair handshake slots (handshake-slots.ts): the relay's opaque per-IP tag or the
   * local peer's address. Undefined when unknown (an older relay that does not tag OPEN). Never shown to anyone.
   */
  readonly source?: string;
  /** Send one wire message (hello reply or Noise transport message). */
  send(data: Uint8Array): void;
  /** Close the client's connection with a paseo close code (docs/protocol.md §4). */
  close(code: number, reason: string): void;
  /** False while the transport asks the daemon to stop sending (relay PAUSE, socket buffer above its mark). */
  readonly writable: boolean;
  /** Called once each time the pipe becomes writable again. */
  onWritable(listener: () => void): void;
}

/** The side of a pipe the transport drives. */
export interface PipeHandler {
  receive(data: Uint8Array): void;
  /** The transport closed (client left, relay link lost). */
  closed(): void;
}
