/**
 * The 64-bit Noise counter nonce (spec §5.1), kept as two u32 halves so the per-message hot path does no
 * bigint arithmetic. Encoded for ChaChaPoly as 4 zero bytes followed by the little-endian counter (spec §12.3).
 */
import { NONCE_LEN } from "../crypto/backend.js";
import { NonceExhaustedError } from "./errors.js";

const U32 = 0x1_0000_0000;
/** 2^64-1: never used by EncryptWithAd/DecryptWithAd; it is reserved for REKEY (spec §5.1, §11.3). */
export const MAX_NONCE = (1n << 64n) - 1n;

export class Nonce {
  private lo = 0;
  private hi = 0;

  constructor(value: bigint | number = 0n) {
    this.set(value);
  }

  /** Noise's SetNonce(). Accepts any value in [0, 2^64-1]; encrypt/decrypt refuse the reserved maximum. */
  set(value: bigint | number): void {
    const n = typeof value === "number" ? toBigInt(value) : value;
    if (n < 0n || n > MAX_NONCE) throw new RangeError(`nonce must be in [0, 2^64-1], got ${n}`);
    this.lo = Number(n & 0xffff_ffffn);
    this.hi = Number(n >> 32n);
  }

  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** True at 2^64-1: the state can no longer encrypt or decrypt. */
  get isExhausted(): boolean {
    return this.lo === 0xffff_ffff && this.hi === 0xffff_ffff;
  }

  /** Throws NonceExhaustedError if the current value is the reserved maximum. Call before using the nonce. */
  assertUsable(): void {
    if (this.isExhausted) throw new NonceExhaustedError();
  }

  /** Advance by one. Reaching 2^64-1 is allowed; using it is not (assertUsable). */
  increment(): void {
    this.assertUsable();
    this.lo += 1;
    if (this.lo === U32) {
      this.lo = 0;
      this.hi += 1;
    }
  }

  /** The 12-byte ChaChaPoly nonce. A fresh array each time, so a backend may keep it without aliasing. */
  toBytes(): Uint8Array {
    return encodeNonce(this.lo, this.hi);
  }
}

export function encodeNonce(lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(NONCE_LEN);
  const view = new DataView(out.buffer);
  view.setUint32(4, lo, true);
  view.setUint32(8, hi, true);
  return out;
}

/** The encoded reserved nonce, used only by REKEY. */
export function maxNonceBytes(): Uint8Array {
  return encodeNonce(0xffff_ffff, 0xffff_ffff);
}

function toBigInt(value: number): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`nonce must be a safe integer or a bigint, got ${value}`);
  return BigInt(value);
}
