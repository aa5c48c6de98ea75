/** Input checks shared by both backends, so they reject exactly the same inputs with the same errors. */
import { CryptoInputError, LowOrderPointError } from "../errors.js";
import { KEY_LEN, NONCE_LEN, TAG_LEN } from "./backend.js";

export function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoInputError(
      `${what} must be ${length} bytes (got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes})`,
    );
  }
}

export function checkAeadArgs(key: Uint8Array, nonce: Uint8Array): void {
  checkLength("ChaCha20-Poly1305 key", key, KEY_LEN);
  checkLength("ChaCha20-Poly1305 nonce", nonce, NONCE_LEN);
}

export function checkCiphertext(ciphertext: Uint8Array): void {
  if (ciphertext.length < TAG_LEN) throw new CryptoInputError(`ciphertext shorter than the ${TAG_LEN}-byte tag`);
}

/** Constant-time check that a DH output is not all zero (the low-order-point signal). */
export function assertNonZero(shared: Uint8Array): Uint8Array {
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  if (acc === 0) throw new LowOrderPointError();
  return shared;
}
