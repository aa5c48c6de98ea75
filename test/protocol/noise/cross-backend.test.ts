/**
 * The two crypto backends must be interchangeable on the wire: identical transcripts from identical fixed keys,
 * and a noble party must complete a handshake with a native party (and vice versa) using random keys.
 */
import { describe, expect, it } from "vitest";
import type { CryptoBackend, KeyPair } from "../../../src/protocol/crypto/backend.js";
import { nativeBackend } from "../../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../../src/protocol/crypto/noble.js";
import { toHex, utf8 } from "../../../src/protocol/encoding.js";
import { HandshakeState, parseProtocolName } from "../../../src/protocol/noise/index.js";

const EMPTY = new Uint8Array(0);

function fixedPair(backend: CryptoBackend, byte: number): KeyPair {
  const secretKey = new Uint8Array(32).fill(byte);
  return { secretKey, publicKey: backend.publicKeyOf(secretKey) };
}

/** Run a full handshake plus transport traffic with fixed keys; returns every wire message as hex. */
function transcript(backend: CryptoBackend, protocolName: string): { messages: string[]; hash: string } {
  const { pattern, pskPositions } = parseProtocolName(protocolName);
  const is = fixedPair(backend, 1);
  const rsPair = fixedPair(backend, 2);
  const psks = pskPositions.map((n) => new Uint8Array(32).fill(0x70 + n));
  const prologue = utf8("cross-backend");
  const needs = (pre: readonly string[]) => pre.includes("s");
  const init = new HandshakeState({
    protocolName,
    initiator: true,
    backend,
    prologue,
    psks,
    s: is,
    e: fixedPair(backend, 3),
    rs: needs(pattern.responderPreMessage) ? rsPair.publicKey : undefined,
  });
  const resp = new HandshakeState({
    protocolName,
    initiator: false,
    backend,
    prologue,
    psks,
    s: rsPair,
    e: fixedPair(backend, 4),
    rs: needs(pattern.initiatorPreMessage) ? is.publicKey : undefined,
  });
  const messages: string[] = [];
  for (let i = 0; !init.isComplete; i++) {
    const [sender, receiver] = i % 2 === 0 ? [init, resp] : [resp, init];
    const m = sender.writeMessage(utf8(`handshake payload ${i}`));
    receiver.readMessage(m);
    messages.push(toHex(m));
  }
  const [a, b] = [init.split(), resp.split()];
  for (let i = 0; i < 6; i++) {
    const toResponder = pattern.oneWay || i % 2 === 0;
    const [send, recv] = toResponder ? [a.send, b.recv] : [b.send, a.recv];
    const m = send.encryptWithAd(EMPTY, utf8(`transport ${i}`));
    expect(recv.decryptWithAd(EMPTY, m)).toEqual(utf8(`transport ${i}`));
    messages.push(toHex(m));
    if (i === 3) {
      send.rekey();
      recv.rekey();
    }
  }
  expect(toHex(init.handshakeHash())).toBe(toHex(resp.handshakeHash()));
  return { messages, hash: toHex(init.handshakeHash()) };
}

describe("noble and native produce identical transcripts", () => {
  const protocols = ["NKpsk0", "NN", "XX", "IK", "KK1", "I1X1", "XXpsk3", "NNpsk0+psk2", "N", "Xpsk1"].flatMap((p) =>
    ["SHA256", "BLAKE2s"].map((h) => `Noise_${p}_25519_ChaChaPoly_${h}`),
  );
  it.each(protocols)("%s", (name) => {
    expect(transcript(nativeBackend, name)).toEqual(transcript(nobleBackend, name));
  });
});

describe("mixed-backend NKpsk0 with random keys", () => {
  const cases: [CryptoBackend, CryptoBackend][] = [
    [nobleBackend, nativeBackend],
    [nativeBackend, nobleBackend],
  ];
  it.each(cases.map(([i, r]) => [i.name, r.name, i, r] as const))(
    "%s initiator + %s responder",
    (_i, _r, iBackend, rBackend) => {
      const protocolName = "Noise_NKpsk0_25519_ChaChaPoly_SHA256";
      const server = rBackend.generateKeyPair();
      const psk = iBackend.randomBytes(32);
      const prologue = utf8("paseo/1\0server\0offer");
      const init = new HandshakeState({
        protocolName,
        initiator: true,
        backend: iBackend,
        prologue,
        rs: server.publicKey,
        psks: [psk],
      });
      const resp = new HandshakeState({
        protocolName,
        initiator: false,
        backend: rBackend,
        prologue,
        s: server,
        psks: [psk],
      });
      expect(resp.readMessage(init.writeMessage(utf8("early")))).toEqual(utf8("early"));
      expect(init.readMessage(resp.writeMessage(utf8("welcome")))).toEqual(utf8("welcome"));
      expect(init.handshakeHash()).toEqual(resp.handshakeHash());
      expect(init.remoteStaticKey()).toEqual(server.publicKey);
      const [a, b] = [init.split(), resp.split()];
      for (let n = 1; n <= 50; n++) {
        const up = iBackend.randomBytes(n * 7);
        const down = rBackend.randomBytes(n * 5);
        expect(b.recv.decryptWithAd(EMPTY, a.send.encryptWithAd(EMPTY, up))).toEqual(up);
        expect(a.recv.decryptWithAd(EMPTY, b.send.encryptWithAd(EMPTY, down))).toEqual(down);
        if (n % 10 === 0) for (const c of [a.send, a.recv, b.send, b.recv]) c.rekey();
      }
    },
  );
});
