/**
 * Handshake patterns as token lists (spec §7, §9, §18) and the protocol-name parser.
 * Message i (0-based) is sent by the initiator when i is even, by the responder when it is odd.
 */
import type { HashName } from "../crypto/backend.js";
import { NoiseConfigError } from "./errors.js";

export type PreMessageToken = "e" | "s";
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

export interface HandshakePattern {
  readonly name: string;
  /** Keys known to the responder before the handshake (`->` lines above `...`). */
  readonly initiatorPreMessage: readonly PreMessageToken[];
  /** Keys known to the initiator before the handshake (`<-` lines above `...`). */
  readonly responderPreMessage: readonly PreMessageToken[];
  readonly messages: readonly (readonly Token[])[];
  /** One-way patterns (N, K, X): a single message, after which only the initiator sends. */
  readonly oneWay: boolean;
}

type Row = [initiatorPre: string, responderPre: string, ...messages: string[]];

// Each row: initiator pre-message, responder pre-message, then one comma-separated token string per message,
// transcribed from the spec so a reviewer can diff it against §7.4, §7.5 and §18.2 line by line.
const TABLE: Record<string, Row> = {
  // One-way (§7.4)
  N: ["", "s", "e,es"],
  K: ["s", "s", "e,es,ss"],
  X: ["", "s", "e,es,s,ss"],
  // Fundamental interactive (§7.5)
  NN: ["", "", "e", "e,ee"],
  NK: ["", "s", "e,es", "e,ee"],
  NX: ["", "", "e", "e,ee,s,es"],
  XN: ["", "", "e", "e,ee", "s,se"],
  XK: ["", "s", "e,es", "e,ee", "s,se"],
  XX: ["", "", "e", "e,ee,s,es", "s,se"],
  KN: ["s", "", "e", "e,ee,se"],
  KK: ["s", "s", "e,es,ss", "e,ee,se"],
  KX: ["s", "", "e", "e,ee,se,s,es"],
  IN: ["", "", "e,s", "e,ee,se"],
  IK: ["", "s", "e,es,s,ss", "e,ee,se"],
  IX: ["", "", "e,s", "e,ee,se,s,es"],
  // Deferred (§18.2)
  NK1: ["", "s", "e", "e,ee,es"],
  NX1: ["", "", "e", "e,ee,s", "es"],
  X1N: ["", "", "e", "e,ee", "s", "se"],
  X1K: ["", "s", "e,es", "e,ee", "s", "se"],
  XK1: ["", "s", "e", "e,ee,es", "s,se"],
  X1K1: ["", "s", "e", "e,ee,es", "s", "se"],
  X1X: ["", "", "e", "e,ee,s,es", "s", "se"],
  XX1: ["", "", "e", "e,ee,s", "es,s,se"],
  X1X1: ["", "", "e", "e,ee,s", "es,s", "se"],
  K1N: ["s", "", "e", "e,ee", "se"],
  K1K: ["s", "s", "e,es", "e,ee", "se"],
  KK1: ["s", "s", "e", "e,ee,se,es"],
  K1K1: ["s", "s", "e", "e,ee,es", "se"],
  K1X: ["s", "", "e", "e,ee,s,es", "se"],
  KX1: ["s", "", "e", "e,ee,se,s", "es"],
  K1X1: ["s", "", "e", "e,ee,s", "se,es"],
  I1N: ["", "", "e,s", "e,ee", "se"],
  I1K: ["", "s", "e,es,s", "e,ee", "se"],
  IK1: ["", "s", "e,s", "e,ee,se,es"],
  I1K1: ["", "s", "e,s", "e,ee,es", "se"],
  I1X: ["", "", "e,s", "e,ee,s,es", "se"],
  IX1: ["", "", "e,s", "e,ee,se,s", "es"],
  I1X1: ["", "", "e,s", "e,ee,s", "se,es"],
};

const ONE_WAY = new Set(["N", "K", "X"]);

function tokens<T extends string>(spec: string): T[] {
  return spec === "" ? [] : (spec.split(",") as T[]);
}

/** The base pattern (no modifiers), or undefined if paseo does not know it. */
export function basePattern(name: string): HandshakePattern | undefined {
  if (!Object.hasOwn(TABLE, name)) return undefined;
  const [initiatorPre, responderPre, ...messages] = TABLE[name]!;
  return {
    name,
    initiatorPreMessage: tokens<PreMessageToken>(initiatorPre),
    responderPreMessage: tokens<PreMessageToken>(responderPre),
    messages: messages.map((m) => tokens<Token>(m)),
    oneWay: ONE_WAY.has(name),
  };
}

/** Names of every supported base pattern (for diagnostics and tests). */
export const SUPPORTED_PATTERNS: readonly string[] = Object.keys(TABLE);

/**
 * Apply pskN modifiers (§9): psk0 puts a psk token at the start of the first message, pskN (N > 0) at the end
 * of message N. Several may be combined ("psk0+psk2"); they are applied in ascending order.
 */
export function applyPskModifiers(pattern: HandshakePattern, positions: readonly number[]): HandshakePattern {
  const messages = pattern.messages.map((m) => [...m]);
  for (const n of [...positions].sort((a, b) => a - b)) {
    if (n === 0) messages[0]!.unshift("psk");
    else if (n <= messages.length) messages[n - 1]!.push("psk");
    else throw new NoiseConfigError(`psk${n} is out of range for ${pattern.name} (${messages.length} messages)`);
  }
  const suffix = positions.length ? positions.map((n) => `psk${n}`).join("+") : "";
  return { ...pattern, name: pattern.name + suffix, messages };
}

export interface NoiseProtocol {
  /** The full name, e.g. "Noise_NKpsk0_25519_ChaChaPoly_SHA256". */
  readonly name: string;
  /** The pattern with modifiers applied. */
  readonly pattern: HandshakePattern;
  /** psk positions in ascending order; empty when the handshake uses no psk. */
  readonly pskPositions: readonly number[];
  readonly dh: "25519";
  readonly cipher: "ChaChaPoly";
  readonly hash: HashName;
}

const NAME_RE = /^Noise_([A-Z][A-Z0-9]*)([a-z][a-z0-9+]*)?_([^_]+)_([^_]+)_([^_]+)$/;

/** Parse `Noise_<PATTERN>[<modifiers>]_25519_ChaChaPoly_<SHA256|BLAKE2s>`; anything else is refused. */
export function parseProtocolName(name: string): NoiseProtocol {
  const m = NAME_RE.exec(name);
  if (!m) throw new NoiseConfigError(`not a Noise protocol name: ${JSON.stringify(name)}`);
  const [, patternName, modifiers, dh, cipher, hash] = m;
  if (dh !== "25519") throw new NoiseConfigError(`unsupported DH function ${dh} (supports 25519)`);
  if (cipher !== "ChaChaPoly") throw new NoiseConfigError(`unsupported cipher ${cipher} (supports ChaChaPoly)`);
  if (hash !== "SHA256" && hash !== "BLAKE2s")
    throw new NoiseConfigError(`unsupported hash ${hash} (supports SHA256, BLAKE2s)`);
  const base = basePattern(patternName!);
  if (!base) throw new NoiseConfigError(`unsupported handshake pattern ${patternName}`);
  const positions: number[] = [];
  for (const modifier of modifiers ? modifiers.split("+") : []) {
    const psk = /^psk(0|[1-9][0-9]?)$/.exec(modifier);
    if (!psk) throw new NoiseConfigError(`unsupported pattern modifier ${JSON.stringify(modifier)} (supports pskN)`);
    const n = Number(psk[1]);
    if (positions.includes(n)) throw new NoiseConfigError(`duplicate modifier psk${n}`);
    positions.push(n);
  }
  const pattern = applyPskModifiers(base, positions);
  return { name, pattern, pskPositions: [...positions].sort((a, b) => a - b), dh: "25519", cipher: "ChaChaPoly", hash };
}
