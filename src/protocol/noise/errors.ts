/**
 * Errors raised by the Noise engine. Each has a stable `code`; crypto-level failures (DecryptError,
 * LowOrderPointError, CryptoInputError) live in ../errors.ts because both backends raise them.
 */
import { PaseoError } from "../errors.js";

/** The API was used out of order: wrong turn, after completion, after a failure, split() too early or twice. */
export class NoiseStateError extends PaseoError {
  constructor(message: string) {
    super("NOISE_STATE", message);
  }
}

/** Bad construction input: unknown protocol name, missing or wrongly sized key, wrong number of psks. */
export class NoiseConfigError extends PaseoError {
  constructor(message: string) {
    super("NOISE_CONFIG", message);
  }
}

/**
 * A handshake message did not authenticate: wrong psk, wrong static key, tampered bytes or wrong prologue.
 * The DecryptError is kept as `cause`; the message does not say which input was wrong because Noise cannot tell.
 */
export class HandshakeError extends PaseoError {
  constructor(
    message = "handshake failed: the peer's message did not authenticate (wrong secret, wrong key, or tampered)",
    options?: { cause?: unknown },
  ) {
    super("HANDSHAKE_FAILED", message, options);
  }
}

/** Noise caps every message (handshake or transport) at 65535 bytes so lengths fit a u16 on any transport. */
export class NoiseMessageTooLargeError extends PaseoError {
  constructor(length: number, limit: number) {
    super("NOISE_MESSAGE_TOO_LARGE", `Noise message of ${length} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A received message is shorter than its tokens and authentication tags require. */
export class TruncatedMessageError extends PaseoError {
  constructor(length: number, needed: number) {
    super("NOISE_TRUNCATED", `Noise message of ${length} bytes is truncated (at least ${needed} bytes expected)`);
  }
}

/** The 64-bit nonce reached 2^64-1, which Noise reserves (it is the rekey nonce); the channel must be replaced. */
export class NonceExhaustedError extends PaseoError {
  constructor() {
    super("NONCE_EXHAUSTED", "Noise nonce exhausted (2^64-1 is reserved); open a new channel");
  }
}

/** A CipherState is used after an earlier failure poisoned it; the connection must be closed. */
export class ChannelFailedError extends PaseoError {
  constructor(message = "the Noise channel failed earlier (a message did not decrypt) and cannot be used; reconnect") {
    super("CHANNEL_FAILED", message);
  }
}
