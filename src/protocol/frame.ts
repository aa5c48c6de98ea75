/**
 * Chunk framing above Noise (docs/protocol.md §7). One Noise plaintext is one chunk:
 *
 *   chunk = flags u8 ‖ [type u8 ‖ totalLength u32]  (only when FIRST) ‖ data
 *
 * An application message (type, body) of any size up to a declared maximum is split into chunks that each fit one
 * Noise message; the reassembler validates every transition so that a malicious peer cannot make it allocate more
 * than it declared, interleave messages, or smuggle bytes past LAST.
 */
import { PaseoError } from "./errors.js";
import { truncateUtf8 } from "./encoding.js";

export const FLAG_FIRST = 0x01;
export const FLAG_LAST = 0x02;
const KNOWN_FLAGS = FLAG_FIRST | FLAG_LAST;

export const MessageType = { CONTROL: 1, STREAM: 2, CLOSE: 3 } as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** Max Noise plaintext: 65535-byte message minus the 16-byte tag. */
export const MAX_CHUNK_PLAINTEXT = 65535 - 16;
const FIRST_HEADER = 6;
const CONT_HEADER = 1;
export const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;

export interface AppMessage {
  type: MessageTypeValue;
  body: Uint8Array;
}

/** A malformed chunk sequence (truncated, interleaved, unknown type or flags). Fatal for the channel. */
export class FrameError extends PaseoError {
  constructor(message: string) {
    super("FRAME_INVALID", message);
  }
}

/** A peer declared (or sent) an application message above the receiver's maximum. Fatal for the channel. */
export class MessageTooLargeError extends PaseoError {
  readonly limit: number;
  constructor(size: number, limit: number) {
    super("MESSAGE_TOO_LARGE", `message of ${size} bytes exceeds the ${limit}-byte limit`);
    this.limit = limit;
  }
}

function isKnownType(t: number): t is MessageTypeValue {
  return t === MessageType.CONTROL || t === MessageType.STREAM || t === MessageType.CLOSE;
}

/** Split one application message into chunk plaintexts, each ≤ maxChunk bytes. */
export function encodeChunks(
  message: AppMessage,
  maxChunk = MAX_CHUNK_PLAINTEXT,
  maxMessage = DEFAULT_MAX_MESSAGE,
): Uint8Array[] {
  const { type, body } = message;
  if (!isKnownType(type)) throw new FrameError(`unknown message type ${type}`);
  if (body.length > maxMessage) throw new MessageTooLargeError(body.length, maxMessage);
  if (maxChunk <= FIRST_HEADER) throw new RangeError("maxChunk too small");
  const chunks: Uint8Array[] = [];
  let offset = 0;
  let first = true;
  do {
    const header = first ? FIRST_HEADER : CONT_HEADER;
    const take = Math.min(body.length - offset, maxChunk - header);
    const last = offset + take === body.length;
    const chunk = new Uint8Array(header + take);
    chunk[0] = (first ? FLAG_FIRST : 0) | (last ? FLAG_LAST : 0);
    if (first) {
      chunk[1] = type;
      new DataView(chunk.buffer).setUint32(2, body.length);
    }
    chunk.set(body.subarray(offset, offset + take), header);
    chunks.push(chunk);
    offset += take;
    first = false;
  } while (offset < body.length);
  return chunks;
}

/** Reassembles chunks into application messages. One instance per receiving direction of a channel. */
export class Reassembler {
  private type: MessageTypeValue | undefined;
  private buffer: Uint8Array | undefined;
  private filled = 0;

  constructor(readonly maxMessage = DEFAULT_MAX_MESSAGE) {}

  /** True while a multi-chunk message is partially received. */
  get inProgress(): boolean {
    return this.buffer !== undefined;
  }

  /** Feed one chunk plaintext; returns the completed message, or undefined if more chunks are needed. */
  push(chunk: Uint8Array): AppMessage | undefined {
    if (chunk.length < 1) throw new FrameError("empty chunk");
    const flags = chunk[0]!;
    if ((flags & ~KNOWN_FLAGS) !== 0) throw new FrameError(`unknown chunk flags 0x${flags.toString(16)}`);
    let data: Uint8Array;
    if (flags & FLAG_FIRST) {
      if (this.buffer) throw new FrameError("a new message started before the previous one ended");
      if (chunk.length < FIRST_HEADER) throw new FrameError("truncated first chunk header");
      const type = chunk[1]!;
      if (!isKnownType(type)) throw new FrameError(`unknown message type ${type}`);
      const total = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(2);
      if (total > this.maxMessage) throw new MessageTooLargeError(total, this.maxMessage);
      if (flags & FLAG_LAST) {
        // The common case (every RPC message and log chunk): one chunk, no copy into a reassembly buffer.
        const data = chunk.subarray(FIRST_HEADER);
        if (data.length > total) throw new FrameError("chunk carries more bytes than the message declared");
        if (data.length < total)
          throw new FrameError(`truncated message: ${data.length} of ${total} bytes before LAST`);
        return { type, body: data };
      }
      this.type = type;
      this.buffer = new Uint8Array(total);
      this.filled = 0;
      data = chunk.subarray(FIRST_HEADER);
    } else {
      if (!this.buffer) throw new FrameError("continuation chunk without a message in progress");
      data = chunk.subarray(CONT_HEADER);
    }
    const buffer = this.buffer!;
    if (this.filled + data.length > buffer.length)
      throw new FrameError("chunk carries more bytes than the message declared");
    buffer.set(data, this.filled);
    this.filled += data.length;
    const last = (flags & FLAG_LAST) !== 0;
    if (!last) {
      if (this.filled === buffer.length && buffer.length > 0)
        throw new FrameError("message complete but LAST flag missing");
      return undefined;
    }
    if (this.filled !== buffer.length)
      throw new FrameError(`truncated message: ${this.filled} of ${buffer.length} bytes before LAST`);
    const message: AppMessage = { type: this.type!, body: buffer };
    this.buffer = undefined;
    this.type = undefined;
    this.filled = 0;
    return message;
  }
}

/** STREAM body: subId u32 ‖ seq u64 ‖ fd u8 ‖ bytes (docs/protocol.md §7). */
export interface StreamChunk {
  subId: number;
  seq: number;
  fd: number;
  data: Uint8Array;
}

export function encodeStream(chunk: StreamChunk): Uint8Array {
  const out = new Uint8Array(13 + chunk.data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, chunk.subId);
  view.setBigUint64(4, BigInt(chunk.seq));
  out[12] = chunk.fd;
  out.set(chunk.data, 13);
  return out;
}

export function decodeStream(body: Uint8Array): StreamChunk {
  if (body.length < 13) throw new FrameError("truncated stream message");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const seq = view.getBigUint64(4);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError("stream sequence number out of range");
  return { subId: view.getUint32(0), seq: Number(seq), fd: body[12]!, data: body.subarray(13) };
}

/** CLOSE body: code u16 ‖ reason utf8. */
export function encodeClose(code: number, reason: string): Uint8Array {
  // A WebSocket close reason is at most 123 bytes; peers pass this reason on to socket.close().
  const text = new TextEncoder().encode(truncateUtf8(reason, 123));
  const out = new Uint8Array(2 + text.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(text, 2);
  return out;
}

export function decodeClose(body: Uint8Array): { code: number; reason: string } {
  if (body.length < 2) throw new FrameError("truncated close message");
  const code = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint16(0);
  return { code, reason: new TextDecoder().decode(body.subarray(2)) };
}
