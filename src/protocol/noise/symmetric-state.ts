/**
 * Noise SymmetricState (spec §5.2): the chaining key ck, the handshake hash h and a CipherState. Everything is
 * built from backend.hash / backend.hmac so both backends run the exact same construction.
 */
import type { CryptoBackend, HashName } from "../crypto/backend.js";
import { concatBytes, utf8 } from "../encoding.js";
import { CipherState } from "./cipher-state.js";

/** HASHLEN for SHA256 and BLAKE2s (spec §12.2). BLOCKLEN (64 for both) is handled inside backend.hmac. */
export const HASHLEN = 32;
const EMPTY = new Uint8Array(0);

/**
 * HKDF(chaining_key, input_key_material, num_outputs) exactly as Noise §4.3 defines it (not RFC 5869's
 * info/length interface): temp_key = HMAC(ck, ikm); output_i = HMAC(temp_key, output_{i-1} || byte(i)).
 */
export function noiseHkdf(
  backend: CryptoBackend,
  hashName: HashName,
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  numOutputs: 2 | 3,
): Uint8Array[] {
  const tempKey = backend.hmac(hashName, chainingKey, inputKeyMaterial);
  const outputs: Uint8Array[] = [];
  let previous: Uint8Array = EMPTY;
  for (let i = 1; i <= numOutputs; i++) {
    previous = backend.hmac(hashName, tempKey, concatBytes(previous, Uint8Array.of(i)));
    outputs.push(previous);
  }
  tempKey.fill(0);
  return outputs;
}

export class SymmetricState {
  readonly cipher: CipherState;
  private ck: Uint8Array;
  private h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(
    private readonly backend: CryptoBackend,
    readonly hashName: HashName,
    protocolName: string,
  ) {
    const name = utf8(protocolName);
    if (name.length <= HASHLEN) {
      // Short names are zero-padded instead of hashed (spec §5.2), which is what makes h match other stacks.
      this.h = new Uint8Array(HASHLEN);
      this.h.set(name);
    } else {
      this.h = backend.hash(hashName, name);
    }
    this.ck = this.h.slice();
    this.cipher = new CipherState(backend, hashName);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.backend, this.hashName, this.ck, inputKeyMaterial, 2);
    this.ck = ck!;
    // HASHLEN is 32 = key length, so no truncation of temp_k is needed.
    this.cipher.initializeKey(tempK!);
  }

  mixHash(data: Uint8Array): void {
    this.h = this.backend.hash(this.hashName, concatBytes(this.h, data));
  }

  /** Used for psk tokens (spec §9.2): the psk enters both ck/k and h. */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.backend, this.hashName, this.ck, inputKeyMaterial, 3);
    this.ck = ck!;
    this.mixHash(tempH!);
    this.cipher.initializeKey(tempK!);
  }

  /** A copy of h: the channel-binding value, final once the handshake completes. */
  getHandshakeHash(): Uint8Array {
    return this.h.slice();
  }

  hasKey(): boolean {
    return this.cipher.hasKey();
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Throws DecryptError (from the CipherState) when the ciphertext does not authenticate under h. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): the two transport CipherStates, c1 for initiator→responder and c2 for responder→initiator. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.backend, this.hashName, this.ck, EMPTY, 2);
    const c1 = new CipherState(this.backend, this.hashName);
    const c2 = new CipherState(this.backend, this.hashName);
    c1.initializeKey(k1!);
    c2.initializeKey(k2!);
    k1!.fill(0);
    k2!.fill(0);
    // ck is no longer needed; wiping it narrows what a later memory disclosure could reveal.
    this.ck.fill(0);
    return [c1, c2];
  }
}
