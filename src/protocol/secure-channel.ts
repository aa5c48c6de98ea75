/**
 * SecureChannel: the transport phase of a paseo connection, sans I/O. It turns application messages into Noise
 * transport messages (chunked, docs/protocol.md §7) and back. One CipherState per direction, counter nonces,
 * deterministic rekey every REKEY_INTERVAL messages per direction. Any failure poisons the channel: the caller must
 * close the connection (4108 / 4109) — no nonce is ever retried.
 */
import { ChannelFailedError, type CipherState } from "./noise/index.js";
import { type AppMessage, DEFAULT_MAX_MESSAGE, encodeChunks, MAX_CHUNK_PLAINTEXT, Reassembler } from "./frame.js";

export const REKEY_INTERVAL = 65536;
const EMPTY = new Uint8Array(0);

export interface SecureChannelOptions {
  /** Largest application message accepted from the peer (reassembled). */
  maxIncomingMessage?: number;
  /** Largest application message this side may send. */
  maxOutgoingMessage?: number;
  /** Plaintext bytes per chunk (tests use small values to force chunking). */
  maxChunkPlaintext?: number;
}

export class SecureChannel {
  private readonly reassembler: Reassembler;
  private readonly maxOutgoing: number;
  private readonly maxChunk: number;
  private sentCount = 0;
  private receivedCount = 0;

  constructor(
    private readonly sendState: CipherState,
    private readonly recvState: CipherState,
    options: SecureChannelOptions = {},
  ) {
    this.reassembler = new Reassembler(options.maxIncomingMessage ?? DEFAULT_MAX_MESSAGE);
    this.maxOutgoing = options.maxOutgoingMessage ?? DEFAULT_MAX_MESSAGE;
    this.maxChunk = Math.min(options.maxChunkPlaintext ?? MAX_CHUNK_PLAINTEXT, MAX_CHUNK_PLAINTEXT);
  }

  /** The CipherStates hold the failure state: a failed decrypt poisons them, fail() destroys them. */
  get isFailed(): boolean {
    return this.sendState.isFailed || this.recvState.isFailed;
  }

  /** Encrypt one application message into one or more Noise transport messages, in order. */
  encrypt(message: AppMessage): Uint8Array[] {
    if (this.isFailed) throw new ChannelFailedError();
    return encodeChunks(message, this.maxChunk, this.maxOutgoing).map((chunk) => {
      const out = this.sendState.encryptWithAd(EMPTY, chunk);
      if (++this.sentCount % REKEY_INTERVAL === 0) this.sendState.rekey();
      return out;
    });
  }

  /** Decrypt one Noise transport message; returns a message when one is complete. Throws (and poisons) on any error. */
  decrypt(noiseMessage: Uint8Array): AppMessage | undefined {
    if (this.isFailed) throw new ChannelFailedError();
    try {
      const chunk = this.recvState.decryptWithAd(EMPTY, noiseMessage);
      if (++this.receivedCount % REKEY_INTERVAL === 0) this.recvState.rekey();
      return this.reassembler.push(chunk);
    } catch (err) {
      // Also for frame errors after a good decrypt: the channel is dead either way, and its keys are wiped.
      this.fail();
      throw err;
    }
  }

  /** Make the channel unusable and wipe both transport keys (the connection failed or closed). */
  fail(): void {
    this.sendState.destroy();
    this.recvState.destroy();
  }
}
