/**
 * Codec for the daemon leg of the relay (docs/protocol.md §5.2, §5.3). Pure functions, no Node built-ins, so the
 * daemon, the relay and tests share one implementation. Every message is one binary WebSocket message whose first
 * byte is its type. Decoding is strict (exact lengths, valid UTF-8 reasons): a peer that sends anything else is
 * broken or hostile, and guessing what it meant is how routing bugs become security bugs.
 *
 * The relay never looks inside DATA payloads; this codec only splits off the 5-byte header.
 */
import { KEY_LEN } from "./crypto/backend.js";
import { PaseoError } from "./errors.js";
import { fromUtf8, utf8 } from "./encoding.js";

export const MuxType = {
  CHALLENGE: 0x01,
  AUTH: 0x02,
  READY: 0x03,
  OPEN: 0x10,
  DATA: 0x11,
  CLOSE: 0x12,
  PAUSE: 0x13,
  RESUME: 0x14,
} as const;

export const CHALLENGE_NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/** type (1) + clientId (4): the prefix of OPEN, DATA, CLOSE, PAUSE, RESUME. */
export const CLIENT_HEADER_BYTES = 5;
/** A WebSocket close reason is at most 123 bytes (RFC 6455 §5.5: 125-byte control payload minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;
export const MAX_CLIENT_ID = 0xffff_ffff;
/**
 * An OPEN may carry the client's source tag (§5.3): 8 opaque bytes, equal for clients the relay accounts to the same
 * address (IPv4 address, IPv6 /64), so the daemon can share its handshake slots fairly. Sent only to a daemon that
 * registered with `mux=2` in its URL; older daemons keep receiving the 5-byte OPEN.
 */
export const SOURCE_TAG_BYTES = 8;
/** The daemon leg's mux version with tagged OPENs, asked for by the daemon as `&mux=2` on its relay URL (§5.1). */
export const MUX_VERSION_TAGGED = 2;

export type MuxMessage =
  | { type: "challenge"; ephemeralPublicKey: Uint8Array; nonce: Uint8Array }
  | { type: "auth"; publicKey: Uint8Array; mac: Uint8Array }
  | { type: "ready" }
  | { type: "open"; clientId: number; source?: Uint8Array }
  | { type: "data"; clientId: number; payload: Uint8Array }
  | { type: "close"; clientId: number; code: number; reason: string }
  | { type: "pause"; clientId: number }
  | { type: "resume"; clientId: number };

/** A daemon-leg message that is not exactly one of the shapes above. */
export class MuxDecodeError extends PaseoError {
  constructor(message: string) {
    super("MUX_DECODE", `relay mux: ${message}`);
  }
}

/** Misuse of an encoder (bad id, key length, code or reason). A programming error, never peer input. */
export class MuxEncodeError extends PaseoError {
  constructor(message: string) {
    super("MUX_ENCODE", `relay mux: ${message}`);
  }
}

function checkClientId(clientId: number): void {
  if (!Number.isInteger(clientId) || clientId < 0 || clientId > MAX_CLIENT_ID) {
    throw new MuxEncodeError(`clientId must be a u32 (got ${clientId})`);
  }
}

function checkFixed(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length)
    throw new MuxEncodeError(`${what} must be ${length} bytes`);
}

function withClientHeader(type: number, clientId: number, bodyLength: number): Uint8Array {
  checkClientId(clientId);
  const out = new Uint8Array(CLIENT_HEADER_BYTES + bodyLength);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, clientId);
  return out;
}

export function encodeChallenge(ephemeralPublicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  checkFixed("ephemeral public key", ephemeralPublicKey, KEY_LEN);
  checkFixed("nonce", nonce, CHALLENGE_NONCE_BYTES);
  const out = new Uint8Array(1 + KEY_LEN + CHALLENGE_NONCE_BYTES);
  out[0] = MuxType.CHALLENGE;
  out.set(ephemeralPublicKey, 1);
  out.set(nonce, 1 + KEY_LEN);
  return out;
}

export function encodeAuth(publicKey: Uint8Array, mac: Uint8Array): Uint8Array {
  checkFixed("public key", publicKey, KEY_LEN);
  checkFixed("mac", mac, MAC_BYTES);
  const out = new Uint8Array(1 + KEY_LEN + MAC_BYTES);
  out[0] = MuxType.AUTH;
  out.set(publicKey, 1);
  out.set(mac, 1 + KEY_LEN);
  return out;
}

export function encodeReady(): Uint8Array {
  return Uint8Array.of(MuxType.READY);
}

export function encodeOpen(clientId: number, source?: Uint8Array): Uint8Array {
  if (source === undefined) return withClientHeader(MuxType.OPEN, clientId, 0);
  checkFixed("source tag", source, SOURCE_TAG_BYTES);
  const out = withClientHeader(MuxType.OPEN, clientId, SOURCE_TAG_BYTES);
  out.set(source, CLIENT_HEADER_BYTES);
  return out;
}

export function encodePause(clientId: number): Uint8Array {
  return withClientHeader(MuxType.PAUSE, clientId, 0);
}

export function encodeResume(clientId: number): Uint8Array {
  return withClientHeader(MuxType.RESUME, clientId, 0);
}

/** One copy of the payload: the relay's hot path. `payload` may be empty (an empty client message is legal). */
export function encodeData(clientId: number, payload: Uint8Array): Uint8Array {
  const out = withClientHeader(MuxType.DATA, clientId, payload.length);
  out.set(payload, CLIENT_HEADER_BYTES);
  return out;
}

export function encodeClose(clientId: number, code: number, reason = ""): Uint8Array {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff)
    throw new MuxEncodeError(`close code must be a u16 (got ${code})`);
  const reasonBytes = utf8(reason);
  if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
    throw new MuxEncodeError(`close reason is ${reasonBytes.length} bytes; the limit is ${MAX_CLOSE_REASON_BYTES}`);
  }
  const out = withClientHeader(MuxType.CLOSE, clientId, 2 + reasonBytes.length);
  new DataView(out.buffer).setUint16(CLIENT_HEADER_BYTES, code);
  out.set(reasonBytes, CLIENT_HEADER_BYTES + 2);
  return out;
}

export function encodeMux(message: MuxMessage): Uint8Array {
  switch (message.type) {
    case "challenge":
      return encodeChallenge(message.ephemeralPublicKey, message.nonce);
    case "auth":
      return encodeAuth(message.publicKey, message.mac);
    case "ready":
      return encodeReady();
    case "open":
      return encodeOpen(message.clientId, message.source);
    case "data":
      return encodeData(message.clientId, message.payload);
    case "close":
      return encodeClose(message.clientId, message.code, message.reason);
    case "pause":
      return encodePause(message.clientId);
    case "resume":
      return encodeResume(message.clientId);
  }
}

function expectLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) throw new MuxDecodeError(`${name} must be ${length} bytes (got ${bytes.length})`);
}

function expectAtLeast(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length < length) throw new MuxDecodeError(`${name} must be at least ${length} bytes (got ${bytes.length})`);
}

function readClientId(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
}

/**
 * Decode one daemon-leg message. Byte arrays in the result are views into `bytes` (no copy), so the caller must
 * not reuse `bytes` while holding them. Throws MuxDecodeError on anything malformed.
 */
export function decodeMux(bytes: Uint8Array): MuxMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new MuxDecodeError("empty message");
  const type = bytes[0]!;
  switch (type) {
    case MuxType.CHALLENGE:
      expectLength("CHALLENGE", bytes, 1 + KEY_LEN + CHALLENGE_NONCE_BYTES);
      return {
        type: "challenge",
        ephemeralPublicKey: bytes.subarray(1, 1 + KEY_LEN),
        nonce: bytes.subarray(1 + KEY_LEN),
      };
    case MuxType.AUTH:
      expectLength("AUTH", bytes, 1 + KEY_LEN + MAC_BYTES);
      return { type: "auth", publicKey: bytes.subarray(1, 1 + KEY_LEN), mac: bytes.subarray(1 + KEY_LEN) };
    case MuxType.READY:
      expectLength("READY", bytes, 1);
      return { type: "ready" };
    case MuxType.OPEN:
      if (bytes.length === CLIENT_HEADER_BYTES + SOURCE_TAG_BYTES) {
        return { type: "open", clientId: readClientId(bytes), source: bytes.slice(CLIENT_HEADER_BYTES) };
      }
      expectLength("OPEN", bytes, CLIENT_HEADER_BYTES);
      return { type: "open", clientId: readClientId(bytes) };
    case MuxType.PAUSE:
      expectLength("PAUSE", bytes, CLIENT_HEADER_BYTES);
      return { type: "pause", clientId: readClientId(bytes) };
    case MuxType.RESUME:
      expectLength("RESUME", bytes, CLIENT_HEADER_BYTES);
      return { type: "resume", clientId: readClientId(bytes) };
    case MuxType.DATA:
      expectAtLeast("DATA", bytes, CLIENT_HEADER_BYTES);
      return { type: "data", clientId: readClientId(bytes), payload: bytes.subarray(CLIENT_HEADER_BYTES) };
    case MuxType.CLOSE: {
      expectAtLeast("CLOSE", bytes, CLIENT_HEADER_BYTES + 2);
      const reasonBytes = bytes.subarray(CLIENT_HEADER_BYTES + 2);
      if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
        throw new MuxDecodeError(`CLOSE reason is ${reasonBytes.length} bytes; the limit is ${MAX_CLOSE_REASON_BYTES}`);
      }
      let reason: string;
      try {
        reason = fromUtf8(reasonBytes);
      } catch {
        throw new MuxDecodeError("CLOSE reason is not valid UTF-8");
      }
      const code = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(CLIENT_HEADER_BYTES);
      return { type: "close", clientId: readClientId(bytes), code, reason };
    }
    default:
      throw new MuxDecodeError(`unknown message type 0x${type.toString(16).padStart(2, "0")}`);
  }
}
