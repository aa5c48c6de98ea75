/**
 * Noise HandshakeState (spec §5.3, §9): runs one party of a handshake pattern, sans I/O. The caller moves bytes;
 * this class only turns payloads into handshake messages and back, then hands out the transport CipherStates.
 *
 * Failure policy: any error (bad message, low-order key, misuse) makes the state unusable, because a handshake
 * that has processed part of a bad message has a corrupted transcript and must never be continued.
 */
import type { CryptoBackend, KeyPair } from "../crypto/backend.js";
import { KEY_LEN, TAG_LEN } from "../crypto/backend.js";
import { concatBytes } from "../encoding.js";
import { DecryptError } from "../errors.js";
import { type CipherState, MAX_NOISE_MESSAGE } from "./cipher-state.js";
import {
  HandshakeError,
  NoiseConfigError,
  NoiseMessageTooLargeError,
  NoiseStateError,
  TruncatedMessageError,
} from "./errors.js";
import { type NoiseProtocol, parseProtocolName, type PreMessageToken, type Token } from "./patterns.js";
import { SymmetricState } from "./symmetric-state.js";

/** Noise §9: every psk is 32 bytes. Also the size of a paseo offer's pairing secret, which is the psk. */
export const PSK_LEN = 32;
const EMPTY = new Uint8Array(0);

export interface HandshakeOptions {
  /** e.g. "Noise_NKpsk0_25519_ChaChaPoly_SHA256". */
  protocolName: string;
  initiator: boolean;
  backend: CryptoBackend;
  prologue?: Uint8Array;
  /** This party's static key pair. May be given even if the pattern does not use it. */
  s?: KeyPair;
  /** A fixed ephemeral key pair, for test vectors only: real handshakes must let the engine generate one. */
  e?: KeyPair;
  /** The peer's static public key; only for patterns where it is known in advance (a pre-message). */
  rs?: Uint8Array;
  /** The peer's ephemeral public key; only for patterns with an `e` pre-message. */
  re?: Uint8Array;
  /** One 32-byte psk per pskN modifier, in the order the psk tokens occur in the handshake. */
  psks?: Uint8Array[];
}

/** Transport CipherStates oriented for this party: the initiator sends with c1, the responder with c2. */
export interface TransportStates {
  send: CipherState;
  recv: CipherState;
}

export class HandshakeState {
  readonly protocol: NoiseProtocol;
  readonly initiator: boolean;
  private readonly backend: CryptoBackend;
  private readonly symmetric: SymmetricState;
  private readonly psk: boolean;
  private readonly s: KeyPair | undefined;
  private e: KeyPair | undefined;
  private rs: Uint8Array | undefined;
  private re: Uint8Array | undefined;
  private readonly psks: Uint8Array[];
  private pskIndex = 0;
  private messageIndex = 0;
  private failure: unknown;
  private splitDone = false;

  constructor(options: HandshakeOptions) {
    this.protocol = parseProtocolName(options.protocolName);
    this.initiator = options.initiator;
    this.backend = options.backend;
    this.psk = this.protocol.pskPositions.length > 0;
    this.s = options.s && checkKeyPair("s", options.s);
    this.e = options.e && checkKeyPair("e", options.e);
    this.rs = options.rs && checkPublic("rs", options.rs).slice();
    this.re = options.re && checkPublic("re", options.re).slice();
    this.psks = (options.psks ?? []).map((psk, i) => {
      if (psk.length !== PSK_LEN) throw new NoiseConfigError(`psk ${i} must be ${PSK_LEN} bytes (got ${psk.length})`);
      return psk.slice();
    });
    this.validateKeys();

    this.symmetric = new SymmetricState(this.backend, this.protocol.hash, this.protocol.name);
    this.symmetric.mixHash(options.prologue ?? EMPTY);
    // Pre-messages are hashed initiator first, then responder (spec §7.1), whoever we are.
    this.mixPreMessage(this.protocol.pattern.initiatorPreMessage, this.initiator);
    this.mixPreMessage(this.protocol.pattern.responderPreMessage, !this.initiator);
  }

  get isComplete(): boolean {
    return this.messageIndex === this.protocol.pattern.messages.length;
  }

  /** True when the next step for this party is writeMessage(). */
  get isMyTurn(): boolean {
    return this.failure === undefined && !this.isComplete && this.isInitiatorTurn() === this.initiator;
  }

  get isFailed(): boolean {
    return this.failure !== undefined;
  }

  /** Build the next handshake message carrying `payload` (encrypted once a key exists). */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    this.beginStep("write");
    try {
      const tokens = this.protocol.pattern.messages[this.messageIndex]!;
      const length = this.messageLength(tokens, payload.length);
      if (length > MAX_NOISE_MESSAGE) throw new NoiseMessageTooLargeError(length, MAX_NOISE_MESSAGE);
      const parts: Uint8Array[] = [];
      for (const token of tokens) {
        if (token === "e") {
          this.e ??= this.backend.generateKeyPair();
          parts.push(this.e.publicKey.slice());
          this.mixEphemeral(this.e.publicKey);
        } else if (token === "s") {
          parts.push(this.symmetric.encryptAndHash(this.s!.publicKey));
        } else {
          this.mixToken(token);
        }
      }
      parts.push(this.symmetric.encryptAndHash(payload));
      this.messageIndex++;
      return concatBytes(...parts);
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Process the peer's next handshake message; returns its payload. */
  readMessage(message: Uint8Array): Uint8Array {
    this.beginStep("read");
    try {
      if (message.length > MAX_NOISE_MESSAGE) throw new NoiseMessageTooLargeError(message.length, MAX_NOISE_MESSAGE);
      const tokens = this.protocol.pattern.messages[this.messageIndex]!;
      // Checked up front so a short message is reported as truncated, not as a confusing decrypt failure.
      const needed = this.messageLength(tokens, 0);
      if (message.length < needed) throw new TruncatedMessageError(message.length, needed);
      let offset = 0;
      for (const token of tokens) {
        if (token === "e") {
          this.re = message.slice(offset, offset + KEY_LEN);
          offset += KEY_LEN;
          this.mixEphemeral(this.re);
        } else if (token === "s") {
          const length = KEY_LEN + (this.symmetric.hasKey() ? TAG_LEN : 0);
          this.rs = this.symmetric.decryptAndHash(message.subarray(offset, offset + length));
          offset += length;
        } else {
          this.mixToken(token);
        }
      }
      const payload = this.symmetric.decryptAndHash(message.subarray(offset));
      this.messageIndex++;
      return payload;
    } catch (err) {
      throw this.fail(err);
    }
  }

  /**
   * Split() once the handshake is complete; callable once. For one-way patterns the unused direction is
   * returned destroyed (spec §7.4: the responder never sends), so misuse fails loudly instead of sending.
   */
  split(): TransportStates {
    if (this.failure !== undefined) throw new NoiseStateError("the handshake failed; it cannot be split");
    if (!this.isComplete) throw new NoiseStateError("split() called before the handshake completed");
    if (this.splitDone) throw new NoiseStateError("split() was already called; the transport keys were handed out");
    this.splitDone = true;
    const [c1, c2] = this.symmetric.split();
    if (this.protocol.pattern.oneWay) {
      c2.destroy("one-way Noise pattern: only the initiator sends, so the responder-to-initiator direction is closed");
    }
    return this.initiator ? { send: c1, recv: c2 } : { send: c2, recv: c1 };
  }

  /** h: the transcript hash, usable as a channel binding once the handshake is complete. */
  handshakeHash(): Uint8Array {
    return this.symmetric.getHandshakeHash();
  }

  /** The peer's static public key: pre-known or received; undefined until then (or if the pattern has none). */
  remoteStaticKey(): Uint8Array | undefined {
    return this.rs?.slice();
  }

  private isInitiatorTurn(): boolean {
    return this.messageIndex % 2 === 0;
  }

  private beginStep(kind: "write" | "read"): void {
    let problem: string | undefined;
    if (this.failure !== undefined) problem = "the handshake failed earlier and cannot continue";
    else if (this.isComplete) problem = "the handshake is already complete";
    else if ((kind === "write") !== (this.isInitiatorTurn() === this.initiator)) {
      problem = `${kind}Message() called out of turn (message ${this.messageIndex + 1} is the ${this.isInitiatorTurn() ? "initiator" : "responder"}'s)`;
    }
    if (problem !== undefined) throw this.fail(new NoiseStateError(problem));
  }

  /** Record the failure (making the state unusable) and map a handshake DecryptError to HandshakeError. */
  private fail(err: unknown): unknown {
    this.failure ??= err;
    if (err instanceof DecryptError) return new HandshakeError(undefined, { cause: err });
    return err;
  }

  /** Exact size of the next message: token bytes, plus a tag on `s` and on the payload once a key exists. */
  private messageLength(tokens: readonly Token[], payloadLength: number): number {
    let hasKey = this.symmetric.hasKey();
    let length = 0;
    for (const token of tokens) {
      if (token === "e") {
        length += KEY_LEN;
        if (this.psk) hasKey = true; // psk handshakes MixKey(e) (spec §9.2)
      } else if (token === "s") {
        length += KEY_LEN + (hasKey ? TAG_LEN : 0);
      } else {
        hasKey = true; // every DH token and psk calls MixKey / MixKeyAndHash
      }
    }
    return length + payloadLength + (hasKey ? TAG_LEN : 0);
  }

  /** In psk handshakes `e` also feeds ck, so the psk-derived key is never used without fresh randomness (§9.2). */
  private mixEphemeral(publicKey: Uint8Array): void {
    this.symmetric.mixHash(publicKey);
    if (this.psk) this.symmetric.mixKey(publicKey);
  }

  private mixToken(token: Exclude<Token, "e" | "s">): void {
    if (token === "psk") {
      const psk = this.psks[this.pskIndex++];
      if (!psk) throw new NoiseStateError("the pattern needs more psks than were given");
      this.symmetric.mixKeyAndHash(psk);
      return;
    }
    const shared = this.dh(token);
    this.symmetric.mixKey(shared);
    shared.fill(0);
  }

  /** es = DH(initiator e, responder s), se = DH(initiator s, responder e), seen from this party's side. */
  private dh(token: "ee" | "es" | "se" | "ss"): Uint8Array {
    const mine = (which: "e" | "s"): KeyPair => {
      const key = which === "e" ? this.e : this.s;
      if (!key) throw new NoiseStateError(`token ${token} needs the local ${which} key, which is missing`);
      return key;
    };
    const theirs = (which: "e" | "s"): Uint8Array => {
      const key = which === "e" ? this.re : this.rs;
      if (!key) throw new NoiseStateError(`token ${token} needs the remote ${which} key, which is missing`);
      return key;
    };
    const [initiatorKey, responderKey] = [token[0] as "e" | "s", token[1] as "e" | "s"];
    const local = this.initiator ? initiatorKey : responderKey;
    const remote = this.initiator ? responderKey : initiatorKey;
    // The backend throws LowOrderPointError on an all-zero result; it propagates as is.
    return this.backend.dh(mine(local).secretKey, theirs(remote));
  }

  private mixPreMessage(tokens: readonly PreMessageToken[], local: boolean): void {
    for (const token of tokens) {
      const key = token === "s" ? (local ? this.s?.publicKey : this.rs) : local ? this.e?.publicKey : this.re;
      // validateKeys() guarantees presence; this guard only protects the invariant.
      if (!key) throw new NoiseConfigError(`pre-message key ${token} is missing`);
      if (token === "e") this.mixEphemeral(key);
      else this.symmetric.mixHash(key);
    }
  }

  /** Fail at construction, with a clear message, rather than halfway through a handshake. */
  private validateKeys(): void {
    const { pattern, pskPositions } = this.protocol;
    const localPre = this.initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
    const remotePre = this.initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
    const localSends = (token: Token): boolean =>
      pattern.messages.some((m, i) => i % 2 === (this.initiator ? 0 : 1) && m.includes(token));
    const name = this.protocol.name;
    if (!this.s && (localPre.includes("s") || localSends("s")))
      throw new NoiseConfigError(`${name} needs the local static key pair s`);
    if (!this.e && localPre.includes("e"))
      throw new NoiseConfigError(`${name} needs the local ephemeral e (pre-message)`);
    if (remotePre.includes("s") !== (this.rs !== undefined)) {
      throw new NoiseConfigError(
        this.rs ? `${name} does not take a pre-known remote static key rs` : `${name} needs the remote static key rs`,
      );
    }
    if (remotePre.includes("e") !== (this.re !== undefined)) {
      throw new NoiseConfigError(
        this.re ? `${name} does not take a pre-known remote ephemeral re` : `${name} needs the remote ephemeral re`,
      );
    }
    if (this.psks.length !== pskPositions.length) {
      throw new NoiseConfigError(`${name} needs ${pskPositions.length} psk(s), got ${this.psks.length}`);
    }
  }
}

function checkPublic(what: string, key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LEN)
    throw new NoiseConfigError(`${what} must be a ${KEY_LEN}-byte public key`);
  return key;
}

function checkKeyPair(what: string, pair: KeyPair): KeyPair {
  checkPublic(`${what}.publicKey`, pair.publicKey);
  if (!(pair.secretKey instanceof Uint8Array) || pair.secretKey.length !== KEY_LEN) {
    throw new NoiseConfigError(`${what}.secretKey must be ${KEY_LEN} bytes`);
  }
  return pair;
}
