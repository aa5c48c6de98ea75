/**
 * Error classes shared by every paseo module. Each error has a stable `code` (for programs) and a message that
 * says which hop failed and what to do next. No error message may contain a pairing secret or a whole link:
 * use `redact()` from ./redact.ts on anything user-supplied before putting it in a message.
 */
export class PaseoError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Raised by the crypto layer: an X25519 input is a low-order point or the shared secret is all zero. */
export class LowOrderPointError extends PaseoError {
  constructor(message = "X25519 rejected: the peer's public key is a low-order point (all-zero shared secret)") {
    super("LOW_ORDER_POINT", message);
  }
}

/** AEAD authentication failed (tampered, replayed, reordered, reflected, or wrong key). Fatal for a channel. */
export class DecryptError extends PaseoError {
  constructor(
    message = "decryption failed: the message was tampered with, replayed, reordered or sent under another key",
  ) {
    super("DECRYPT_FAILED", message);
  }
}

/** Bad arguments to a crypto primitive (wrong key or nonce length). A programming or input error. */
export class CryptoInputError extends PaseoError {
  constructor(message: string) {
    super("CRYPTO_INPUT", message);
  }
}

/** The errno-style `code` of a Node system error (ENOENT, EACCES …), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}
