/**
 * Cacophony Noise vectors (../shared/vectors/noise-cacophony-25519-chachapoly.json) on both crypto backends:
 * every handshake message byte for byte, both sides' handshake hash, then every transport message.
 *
 * Direction convention (cacophony / snow): message i is sent by the initiator when i is even, by the responder
 * when odd — except for one-way patterns (N, K, X), where every message goes initiator → responder.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { CryptoBackend, KeyPair } from "../../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../../src/protocol/crypto/noble.js";
import { fromHex, toHex } from "../../../src/protocol/encoding.js";
import {
  HandshakeState,
  NoiseConfigError,
  parseProtocolName,
  type TransportStates,
} from "../../../src/protocol/noise/index.js";
import { loadSharedVector } from "../shared-vectors.js";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const { vectors } = loadSharedVector<{ vectors: Vector[] }>("noise-cacophony-25519-chachapoly.json");
const EXPECTED_VECTORS = 118;
const EMPTY = new Uint8Array(0);

const unsupported: string[] = [];
const supported = vectors.filter((v) => {
  try {
    parseProtocolName(v.protocol_name);
    return true;
  } catch (err) {
    if (!(err instanceof NoiseConfigError)) throw err;
    unsupported.push(v.protocol_name);
    return false;
  }
});

const backends: CryptoBackend[] = [nobleBackend, nativeBackend];
const ran: Record<string, number> = { noble: 0, native: 0 };

function keyPair(backend: CryptoBackend, hex: string | undefined): KeyPair | undefined {
  if (hex === undefined) return undefined;
  const secretKey = fromHex(hex);
  return { secretKey, publicKey: backend.publicKeyOf(secretKey) };
}

function party(backend: CryptoBackend, v: Vector, initiator: boolean): HandshakeState {
  const p = initiator ? "init" : "resp";
  const hex = (field: string): string | undefined =>
    (v as unknown as Record<string, string | undefined>)[`${p}_${field}`];
  const rs = hex("remote_static");
  return new HandshakeState({
    protocolName: v.protocol_name,
    initiator,
    backend,
    prologue: fromHex(hex("prologue") ?? ""),
    s: keyPair(backend, hex("static")),
    e: keyPair(backend, hex("ephemeral")),
    rs: rs === undefined ? undefined : fromHex(rs),
    psks: (initiator ? v.init_psks : v.resp_psks)?.map(fromHex),
  });
}

describe("cacophony vector file", () => {
  it(`holds ${EXPECTED_VECTORS} vectors, all with supported patterns`, () => {
    expect(vectors).toHaveLength(EXPECTED_VECTORS);
    // Explicit skip list: any entry here is a pattern the engine does not implement (expected: none).
    expect(unsupported).toEqual([]);
  });
});

describe.each(backends)("Noise vectors on the $name backend", (backend) => {
  it.each(supported.map((v) => [v.protocol_name, v] as const))("%s", (_name, v) => {
    const init = party(backend, v, true);
    const resp = party(backend, v, false);
    const oneWay = parseProtocolName(v.protocol_name).pattern.oneWay;
    let initT: TransportStates | undefined;
    let respT: TransportStates | undefined;
    let transportChecked = 0;

    v.messages.forEach((m, i) => {
      const payload = fromHex(m.payload);
      const fromInitiator = oneWay || i % 2 === 0;
      if (!initT) {
        const [sender, receiver] = fromInitiator ? [init, resp] : [resp, init];
        const ciphertext = sender.writeMessage(payload);
        expect(toHex(ciphertext), `handshake message ${i}`).toBe(m.ciphertext);
        expect(toHex(receiver.readMessage(ciphertext)), `handshake payload ${i}`).toBe(m.payload);
        if (init.isComplete) {
          expect(resp.isComplete).toBe(true);
          expect(toHex(init.handshakeHash()), "initiator handshake hash").toBe(v.handshake_hash);
          expect(toHex(resp.handshakeHash()), "responder handshake hash").toBe(v.handshake_hash);
          initT = init.split();
          respT = resp.split();
        }
        return;
      }
      const [send, recv] = fromInitiator ? [initT.send, respT!.recv] : [respT!.send, initT.recv];
      const ciphertext = send.encryptWithAd(EMPTY, payload);
      expect(toHex(ciphertext), `transport message ${i}`).toBe(m.ciphertext);
      expect(toHex(recv.decryptWithAd(EMPTY, ciphertext)), `transport payload ${i}`).toBe(m.payload);
      transportChecked++;
    });

    expect(initT, "handshake completed").toBeDefined();
    expect(transportChecked).toBeGreaterThan(0);
    ran[backend.name]!++;
  });
});

afterAll(() => {
  console.log(
    `Noise cacophony vectors: noble ran ${ran.noble}/${vectors.length}, native ran ${ran.native}/${vectors.length}; ` +
      `unsupported (skipped): ${unsupported.length ? unsupported.join(", ") : "none"}`,
  );
});
