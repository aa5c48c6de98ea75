/**
 * Shared checks for the property-based fuzz suites: a decoder given hostile input may return a value or throw a
 * PaseoError (a named error with a stable code) — nothing else, never a hang.
 */
import { expect } from "vitest";
import fc from "fast-check";
import { PaseoError } from "../../src/protocol/errors.js";

/** Per-input time bound: generous (2 cores, shared with other suites) but far below anything that looks like a hang. */
export const MAX_MS_PER_INPUT = 250;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PaseoError };

/** Run `fn`; anything thrown must be a PaseoError with a code, and the call must be fast. */
export function named<T>(fn: () => T): Outcome<T> {
  const t = performance.now();
  let out: Outcome<T>;
  try {
    out = { ok: true, value: fn() };
  } catch (error) {
    if (!(error instanceof PaseoError)) {
      throw new Error(`not a named error: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`, {
        cause: error,
      });
    }
    expect(error.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
    out = { ok: false, error };
  }
  const ms = performance.now() - t;
  if (ms > MAX_MS_PER_INPUT) throw new Error(`one input took ${ms.toFixed(1)} ms`);
  return out;
}

/** Byte-level mutations of a valid input: bit flips, byte overwrites, insertions, deletions, truncation, extension. */
export function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("extend" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  );
  return fc.tuple(base, fc.array(op, { minLength: 1, maxLength: 4 })).map(([input, ops]) => {
    let b = Uint8Array.from(input);
    for (const o of ops) {
      const at =
        b.length === 0
          ? 0
          : o.kind === "extend"
            ? 0
            : o.at % (b.length + (o.kind === "insert" || o.kind === "truncate" ? 1 : 0));
      switch (o.kind) {
        case "flip":
          if (b.length) b[at % b.length]! ^= 1 << o.bit;
          break;
        case "set":
          if (b.length) b[at % b.length] = o.value;
          break;
        case "insert":
          b = Uint8Array.from([...b.subarray(0, at), ...o.bytes, ...b.subarray(at)]);
          break;
        case "delete":
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + o.count)]);
          break;
        case "truncate":
          b = b.slice(0, at);
          break;
        case "extend":
          b = Uint8Array.from([...b, ...o.bytes]);
          break;
      }
    }
    return b;
  });
}

/** Text mutations: the same operations on the UTF-8 string. */
export function mutatedText(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return mutated(base.map((s) => new TextEncoder().encode(s))).map((b) => new TextDecoder().decode(b));
}

export const RUNS = { numRuns: 400 } as const;
