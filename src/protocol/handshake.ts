/**
 * paseo's handshake (docs/protocol.md §6): Noise_NKpsk0_25519_ChaChaPoly_SHA256, where the client knows the
 * daemon's static key from the offer and the offer's pairing secret is the psk.
 *
 *   hello   = 0x01 ‖ offerId (12) ‖ noise message 1 (payload: optional early request, one single-chunk message)
 *   reply   = noise message 2 (payload: the welcome control message)
 *
 * The prologue binds protocol version, serverId and offerId, so a relay that rewrites any of them breaks the
 * handshake. This file is pure: the daemon and DaemonClient do the I/O.
 */
import type { CryptoBackend, KeyPair } from "./crypto/backend.js";
import { HandshakeState } from "./noise/index.js";
import { concatBytes, utf8 } from "./encoding.js";
import { PaseoError } from "./errors.js";
import { type AppMessage, encodeChunks, MAX_CHUNK_PLAINTEXT, Reassembler } from "./frame.js";
import { SecureChannel, type SecureChannelOptions } from "./secure-channel.js";

export const PASEO_NOISE_PROTOCOL = "Noise_NKpsk0_25519_ChaChaPoly_SHA256";
export const HELLO_VERSION = 1;
export const OFFER_ID_LEN = 12;
/** Payload room in a handshake message: 65535 − e (32) − tag (16). */
export const MAX_HANDSHAKE_PAYLOAD = 65535 - 32 - 16;

export class HelloError extends PaseoError {
  constructor(code: "UNSUPPORTED_VERSION" | "HELLO_INVALID", message: string) {
    super(code, message);
  }
}

export function paseoPrologue(serverId: string, offerId: Uint8Array): Uint8Array {
  return concatBytes(utf8("paseo/1"), new Uint8Array([0]), utf8(serverId), new Uint8Array([0]), offerId);
}

/** Encode an optional single application message as a handshake payload (one chunk: FIRST|LAST). */
export function payloadOf(message: AppMessage | undefined): Uint8Array {
  if (!message) return new Uint8Array(0);
  const chunks = encodeChunks(message, MAX_HANDSHAKE_PAYLOAD, MAX_HANDSHAKE_PAYLOAD);
  if (chunks.length !== 1) throw new HelloError("HELLO_INVALID", "handshake payload does not fit one Noise message");
  return chunks[0]!;
}

/** The application message a handshake payload holds (none when empty); HelloError when it is not one whole chunk. */
export function messageOf(payload: Uint8Array): AppMessage | undefined {
  if (payload.length === 0) return undefined;
  const message = new Reassembler(MAX_CHUNK_PLAINTEXT).push(payload);
  if (!message) throw new HelloError("HELLO_INVALID", "handshake payload must be one complete message");
  return message;
}

export interface ClientHandshakeOptions {
  backend: CryptoBackend;
  serverId: string;
  daemonPublicKey: Uint8Array;
  offerId: Uint8Array;
  psk: Uint8Array;
  channel?: SecureChannelOptions;
}

/** Initiator side. `hello()` once, then `readReply()` once. */
export class ClientHandshake {
  private readonly state: HandshakeState;

  constructor(private readonly options: ClientHandshakeOptions) {
    if (options.offerId.length !== OFFER_ID_LEN) throw new HelloError("HELLO_INVALID", "offer id must be 12 bytes");
    this.state = new HandshakeState({
      protocolName: PASEO_NOISE_PROTOCOL,
      initiator: true,
      backend: options.backend,
      prologue: paseoPrologue(options.serverId, options.offerId),
      rs: options.daemonPublicKey,
      psks: [options.psk],
    });
  }

  /** The first wire message: version ‖ offerId ‖ Noise message 1 carrying the optional early request. */
  hello(early?: AppMessage): Uint8Array {
    const m1 = this.state.writeMessage(payloadOf(early));
    return concatBytes(new Uint8Array([HELLO_VERSION]), this.options.offerId, m1);
  }

  /** Process message 2: returns the channel and the daemon's welcome message. */
  readReply(message2: Uint8Array): {
    channel: SecureChannel;
    welcome: AppMessage | undefined;
    handshakeHash: Uint8Array;
  } {
    const payload = this.state.readMessage(message2);
    const { send, recv } = this.state.split();
    return {
      channel: new SecureChannel(send, recv, this.options.channel),
      welcome: messageOf(payload),
      handshakeHash: this.state.handshakeHash(),
    };
  }
}

export interface ParsedHello {
  version: number;
  offerId: Uint8Array;
  noiseMessage: Uint8Array;
}

/** Split the hello header off; the daemon then looks up the offer by id before touching any crypto. */
export function parseHello(bytes: Uint8Array): ParsedHello {
  if (bytes.length < 1) throw new HelloError("HELLO_INVALID", "empty hello");
  if (bytes[0] !== HELLO_VERSION) {
    throw new HelloError(
      "UNSUPPORTED_VERSION",
      `hello version ${bytes[0]} is not supported (supports ${HELLO_VERSION})`,
    );
  }
  if (bytes.length < 1 + OFFER_ID_LEN + 32 + 16) throw new HelloError("HELLO_INVALID", "truncated hello");
  return {
    version: bytes[0]!,
    offerId: bytes.subarray(1, 1 + OFFER_ID_LEN),
    noiseMessage: bytes.subarray(1 + OFFER_ID_LEN),
  };
}

export interface ServerHandshakeOptions {
  backend: CryptoBackend;
  serverId: string;
  staticKey: KeyPair;
  offerId: Uint8Array;
  psk: Uint8Array;
  channel?: SecureChannelOptions;
}

/** Responder side. `readHello()` once, then `reply()` once. */
export class ServerHandshake {
  private readonly state: HandshakeState;

  constructor(private readonly options: ServerHandshakeOptions) {
    this.state = new HandshakeState({
      protocolName: PASEO_NOISE_PROTOCOL,
      initiator: false,
      backend: options.backend,
      prologue: paseoPrologue(options.serverId, options.offerId),
      s: options.staticKey,
      psks: [options.psk],
    });
  }

  /** Decrypt message 1; returns the early request message, if any. Throws HandshakeError on a wrong secret/key. */
  readHello(noiseMessage: Uint8Array): AppMessage | undefined {
    return messageOf(this.state.readMessage(noiseMessage));
  }

  /** Write message 2 carrying the welcome; returns the wire bytes and the established channel. */
  reply(welcome: AppMessage): { message: Uint8Array; channel: SecureChannel } {
    const message = this.state.writeMessage(payloadOf(welcome));
    const { send, recv } = this.state.split();
    return { message, channel: new SecureChannel(send, recv, this.options.channel) };
  }
}
