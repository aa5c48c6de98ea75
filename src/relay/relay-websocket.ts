/**
 * The relay's WebSocket class, handed to ws through WebSocketServer's documented `WebSocket` option ("the WebSocket
 * class to use; it must be the WebSocket class or a class that extends it").
 *
 * Why it exists: ws closes a message above `maxPayload` with 1009 as soon as its receiver reads the length (before
 * buffering the payload — the cheap early rejection we want to keep), but the protocol promises 4005
 * (FRAME_TOO_LARGE), which clients map to a named error instead of reconnecting in a loop. ws has no option for that
 * code, and its 'error' event (code WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) comes after the close frame is written, so
 * the one place to choose the code is the close itself. The relay never closes with 1009 on its own (its codes are
 * 4000–4099 or relayed from the daemon, 4100+), so overriding the public close() for that code rewrites exactly
 * ws's oversize close. test/relay/limits.test.ts checks both legs, so a ws upgrade that stops going through close()
 * fails loudly instead of silently sending 1009.
 */
import { WebSocket } from "ws";
import { CloseCode, closeReason } from "../protocol/close-codes.js";

const WS_MESSAGE_TOO_BIG = 1009;

export class RelayWebSocket extends WebSocket {
  /** Set by Peer: the close code accounting for an oversized message (the relay sent 4005). */
  onFrameTooLarge: (() => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    if (code !== WS_MESSAGE_TOO_BIG) return super.close(code, data);
    this.onFrameTooLarge?.();
    super.close(CloseCode.FRAME_TOO_LARGE, closeReason[CloseCode.FRAME_TOO_LARGE]);
  }
}
