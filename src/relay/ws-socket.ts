/**
 * A `ws` socket as the relay core's RelaySocket (src/protocol/relay/socket.ts): Node can pause reading (TCP
 * backpressure), ping, and report its outbound buffer, so every flow-control and keepalive feature of the core runs.
 */
import { WebSocket } from "ws";
import type { RelaySocket } from "../protocol/relay/socket.js";
import type { RelayWebSocket } from "./relay-websocket.js";

export class WsRelaySocket implements RelaySocket {
  constructor(readonly ws: RelayWebSocket) {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: Uint8Array, onSent: (err?: Error) => void): void {
    this.ws.send(data, { binary: true }, onSent);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  ping(): void {
    this.ws.ping();
  }
}
