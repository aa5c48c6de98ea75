/**
 * Noise CipherState (spec §5.1): a key k (possibly empty) and a 64-bit counter nonce n.
 *
 * Deliberate strictness beyond the spec:
 * - A failed decrypt poisons the state: the nonce is not advanced and every later call throws
 *   ChannelFailedError. Retrying a nonce after a failure would let an attacker probe the channel, and a
 *   transport with ordered delivery never legitimately produces a bad message.
 * - Message sizes are capped at 65535 bytes (spec §3) here too, not only in the handshake, so no layer above
 *   can emit a message another Noise implementation must refuse.
 */
import type { CryptoBackend, HashName } from "../crypto/backend.js";
import { KEY_LEN, TAG_LEN } from "../crypto/backend.js";
import {
  ChannelFailedError,
  NoiseConfigError,
  NoiseMessageTooLargeError,
  NoiseStateError,
  TruncatedMessageError,
} from "./errors.js";
import { maxNonceBytes, Nonce } from "./nonce.js";

/** Largest Noise message, handshake or transport (spec §3). */
export const MAX_NOISE_MESSAGE = 65535;
const ZEROS_32 = new Uint8Array(KEY_LEN);
const EMPTY = new Uint8Array(0);

export class CipherState {
  private k: Uint8Array | undefined;
  private readonly n = new Nonce();
  private failure: ChannelFailedError | undefined;

  /**
   * `hashName` is not used by the cipher itself; it records the suite this state belongs to so a holder of
   * only the CipherState (e.g. a transport) can report it.
   */
  constructor(
    private readonly backend: CryptoBackend,
    readonly hashName: HashName = "SHA256",
  ) {}

  /** InitializeKey(k): sets the key (copied) or clears it with undefined, and resets the nonce to 0. */
  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined && key.length !== KEY_LEN) throw new NoiseConfigError(`cipher key must be ${KEY_LEN} bytes`);
    this.k = key === undefined ? undefined : key.slice();
    this.n.set(0n);
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  /** SetNonce(n). Used for out-of-order transports and for tests; paseo's transport never needs it. */
  setNonce(n: bigint | number): void {
    this.n.set(n);
  }

  /** The next nonce this state will use. */
  get nonce(): bigint {
    return this.n.value;
  }

  /** True after a failed decrypt or destroy(): the channel must be closed. */
  get isFailed(): boolean {
    return this.failure !== undefined;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    this.assertUsable();
    const overhead = this.k ? TAG_LEN : 0;
    if (plaintext.length + overhead > MAX_NOISE_MESSAGE) {
      throw new NoiseMessageTooLargeError(plaintext.length + overhead, MAX_NOISE_MESSAGE);
    }
    // Without a key Noise sends the plaintext as is (early handshake tokens); copy so callers never alias.
    if (!this.k) return plaintext.slice();
    this.n.assertUsable();
    const ciphertext = this.backend.encrypt(this.k, this.n.toBytes(), ad, plaintext);
    this.n.increment();
    return ciphertext;
  }

  /** Throws DecryptError from ../errors.js (and poisons this state) when the tag does not verify; the nonce is not advanced. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    this.assertUsable();
    if (ciphertext.length > MAX_NOISE_MESSAGE) {
      this.poison();
      throw new NoiseMessageTooLargeError(ciphertext.length, MAX_NOISE_MESSAGE);
    }
    if (!this.k) return ciphertext.slice();
    this.n.assertUsable();
    if (ciphertext.length < TAG_LEN) {
      this.poison();
      throw new TruncatedMessageError(ciphertext.length, TAG_LEN);
    }
    let plaintext: Uint8Array;
    try {
      plaintext = this.backend.decrypt(this.k, this.n.toBytes(), ad, ciphertext);
    } catch (err) {
      // Any failure (normally DecryptError) is fatal: poison first so nothing can retry this nonce.
      this.poison();
      throw err;
    }
    this.n.increment();
    return plaintext;
  }

  /**
   * Rekey() per spec §11.3: k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, zeros32). The nonce is kept, so
   * both sides stay in step as long as they rekey after the same message count.
   */
  rekey(): void {
    this.assertUsable();
    if (!this.k) throw new NoiseStateError("rekey() needs a key: the CipherState is empty");
    const next = this.backend.encrypt(this.k, maxNonceBytes(), EMPTY, ZEROS_32).slice(0, KEY_LEN);
    this.k.fill(0);
    this.k = next;
  }

  /** Wipe the key and refuse further use (connection closed, or the unused half of a one-way pattern). */
  destroy(reason?: string): void {
    this.poison(reason);
  }

  private poison(reason?: string): void {
    this.k?.fill(0);
    this.k = undefined;
    this.failure ??= new ChannelFailedError(reason);
  }

  private assertUsable(): void {
    if (this.failure) throw new ChannelFailedError(this.failure.message);
  }
}
