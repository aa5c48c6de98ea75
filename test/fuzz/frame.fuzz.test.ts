/**
 * Fuzz: the frame layer (Reassembler, decodeStream, decodeClose), chunk reassembly of real chunk sequences under
 * mutation (drop, duplicate, swap, flag and length corruption), the hello parser and the handshake / transport
 * decryptors fed random bytes. Only named errors, never a hang, and the Reassembler never allocates more than its
 * declared maximum however the chunks lie.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import {
  decodeClose,
  decodeStream,
  encodeChunks,
  encodeClose,
  encodeStream,
  FrameError,
  MessageTooLargeError,
  MessageType,
  Reassembler,
  type AppMessage,
} from "../../src/protocol/frame.js";
import { ClientHandshake, parseHello, ServerHandshake } from "../../src/protocol/handshake.js";
import { deriveServerId } from "../../src/protocol/server-id.js";
import { mutated, named, RUNS } from "./fuzz-helpers.js";

const backend = nativeBackend;

/** The Reassembler's current allocation (private), to prove memory is bounded by maxMessage. */
const allocated = (r: Reassembler): number => (r as unknown as { buffer?: Uint8Array }).buffer?.length ?? 0;

const messageArb: fc.Arbitrary<AppMessage> = fc.record({
  type: fc.constantFrom(MessageType.CONTROL, MessageType.STREAM, MessageType.CLOSE),
  body: fc.uint8Array({ maxLength: 700 }),
});

describe("Reassembler", () => {
  it("random chunk sequences: messages or FrameError / MessageTooLargeError; allocation ≤ maxMessage", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }),
        (max, chunks) => {
          const r = new Reassembler(max);
          for (const chunk of chunks) {
            const out = named(() => r.push(chunk));
            expect(allocated(r)).toBeLessThanOrEqual(max);
            if (!out.ok) {
              expect(out.error instanceof FrameError || out.error instanceof MessageTooLargeError).toBe(true);
              return; // the channel is dead after any error
            }
            if (out.value) expect(out.value.body.length).toBeLessThanOrEqual(max);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("first chunks that declare huge lengths are refused before any allocation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (total, flags, type) => {
          const chunk = new Uint8Array(6);
          chunk[0] = flags | 1;
          chunk[1] = type;
          new DataView(chunk.buffer).setUint32(2, total);
          const r = new Reassembler(1024);
          const out = named(() => r.push(chunk));
          expect(allocated(r)).toBeLessThanOrEqual(1024);
          if (total > 1024) expect(!out.ok && out.error).toBeInstanceOf(MessageTooLargeError);
        },
      ),
      RUNS,
    );
  });

  it("genuine chunk sequences round-trip at any chunk size", () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 7, max: 300 }),
        (messages, maxChunk) => {
          const r = new Reassembler(1024);
          const got: AppMessage[] = [];
          for (const m of messages)
            for (const c of encodeChunks(m, maxChunk)) {
              const out = r.push(c);
              if (out) got.push({ type: out.type, body: Uint8Array.from(out.body) });
            }
          expect(got).toEqual(messages.map((m) => ({ type: m.type, body: Uint8Array.from(m.body) })));
        },
      ),
      RUNS,
    );
  });

  it("mutated chunk sequences (dropped, duplicated, swapped, corrupted chunks): only named errors, memory within the declared maximum", () => {
    const seqOp = fc.oneof(
      fc.record({ op: fc.constant("drop" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("dup" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("swap" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("flags" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant("length" as const), at: fc.nat(), value: fc.nat() }),
      fc.record({ op: fc.constant("trim" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 10 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 7, max: 120 }),
        fc.array(seqOp, { minLength: 1, maxLength: 3 }),
        (messages, maxChunk, ops) => {
          let chunks = messages.flatMap((m) => encodeChunks(m, maxChunk)).map((c) => Uint8Array.from(c));
          for (const o of ops) {
            if (chunks.length === 0) break;
            const i = o.at % chunks.length;
            if (o.op === "drop") chunks.splice(i, 1);
            else if (o.op === "dup") chunks.splice(i, 0, Uint8Array.from(chunks[i]!));
            else if (o.op === "swap" && i + 1 < chunks.length)
              [chunks[i], chunks[i + 1]] = [chunks[i + 1]!, chunks[i]!];
            else if (o.op === "flags") chunks[i]![0] = o.value;
            else if (o.op === "length" && chunks[i]!.length >= 6 && chunks[i]![0]! & 1)
              new DataView(chunks[i]!.buffer).setUint32(2, o.value);
            else if (o.op === "trim") chunks[i] = chunks[i]!.slice(0, Math.max(0, chunks[i]!.length - o.count));
          }
          chunks = chunks.filter(Boolean);
          const r = new Reassembler(1024);
          for (const c of chunks) {
            const out = named(() => r.push(c));
            expect(allocated(r)).toBeLessThanOrEqual(1024);
            if (!out.ok) return;
            if (out.value) {
              // Whatever completes is exactly as long as its header declared.
              expect(out.value.body.length).toBeLessThanOrEqual(1024);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("STREAM and CLOSE bodies", () => {
  it("decodeStream / decodeClose on random bytes: a value or FrameError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = named(() => decodeStream(bytes));
        if (s.ok) {
          expect(Number.isSafeInteger(s.value.seq)).toBe(true);
          expect(s.value.data.length).toBe(bytes.length - 13);
        } else expect(s.error).toBeInstanceOf(FrameError);
        const c = named(() => decodeClose(bytes));
        if (c.ok) expect(c.value.code).toBeLessThanOrEqual(0xffff);
        else expect(c.error).toBeInstanceOf(FrameError);
      }),
      { numRuns: 1000 },
    );
  });

  it("round-trip and mutation of genuine STREAM / CLOSE bodies", () => {
    const stream = fc
      .record({
        subId: fc.nat({ max: 0xffff_ffff }),
        seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fd: fc.integer({ min: 0, max: 255 }),
        data: fc.uint8Array({ maxLength: 40 }),
      })
      .map((c) => ({ chunk: c, bytes: encodeStream(c) }));
    fc.assert(
      fc.property(stream, (s) => {
        expect(decodeStream(s.bytes)).toEqual({ ...s.chunk, data: s.chunk.data });
      }),
      RUNS,
    );
    fc.assert(
      fc.property(mutated(stream.map((s) => s.bytes)), (bytes) => void named(() => decodeStream(bytes))),
      RUNS,
    );
    fc.assert(
      fc.property(
        mutated(
          fc
            .tuple(fc.integer({ min: 0, max: 0xffff }), fc.string({ maxLength: 60 }))
            .map(([code, reason]) => encodeClose(code, reason)),
        ),
        (bytes) => void named(() => decodeClose(bytes)),
      ),
      RUNS,
    );
  });
});

describe("hello and handshake decoding", () => {
  const staticKey = backend.generateKeyPair();
  const serverId = deriveServerId(backend, staticKey.publicKey);
  const offerId = backend.randomBytes(12);
  const psk = backend.randomBytes(32);
  /** Every genuine hello produced, so an accepted input can be checked against them. */
  const genuine = new Set<string>();
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const genuineHello = () => {
    const h = new ClientHandshake({ backend, serverId, daemonPublicKey: staticKey.publicKey, offerId, psk }).hello({
      type: MessageType.CONTROL,
      body: new TextEncoder().encode('{"t":"req","id":0,"method":"agents.list","params":{}}'),
    });
    genuine.add(hex(h));
    return h;
  };

  it("parseHello + readHello on random and mutated hellos: named errors; a hello only authenticates unmodified", () => {
    const hello = fc.constant(null).map(() => genuineHello());
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(hello)), (bytes) => {
        const parsed = named(() => parseHello(bytes));
        if (!parsed.ok) return;
        const server = new ServerHandshake({ backend, serverId, staticKey, offerId: parsed.value.offerId, psk });
        const read = named(() => server.readHello(parsed.value.noiseMessage));
        // Accepted if and only if it is byte-for-byte a genuine hello (a mutation may leave it unchanged).
        expect(read.ok).toBe(genuine.has(hex(bytes)));
      }),
      { numRuns: 600 },
    );
  });

  it("a transport channel fed random or mutated ciphertext: a named error, then it stays failed (even for the genuine message)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 100 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.nat(),
        (frames, mutateGenuine, where) => {
          const client = new ClientHandshake({ backend, serverId, daemonPublicKey: staticKey.publicKey, offerId, psk });
          const hello = parseHello(client.hello());
          const server = new ServerHandshake({ backend, serverId, staticKey, offerId, psk });
          server.readHello(hello.noiseMessage);
          const { message, channel: serverChannel } = server.reply({
            type: MessageType.CONTROL,
            body: new Uint8Array(2),
          });
          const { channel } = client.readReply(message);
          const genuine = serverChannel.encrypt({ type: MessageType.CONTROL, body: frames[0]! });
          // Either random frames, or the genuine frame with one bit flipped followed by the genuine frame itself:
          // after the failure, not even the authentic message may be accepted (no retry of a nonce, no probing).
          const inputs = mutateGenuine
            ? (() => {
                const bad = Uint8Array.from(genuine[0]!);
                bad[where % bad.length]! ^= 0x80;
                return [bad, genuine[0]!];
              })()
            : frames;
          let failed = false;
          for (const f of inputs) {
            const r = named(() => channel.decrypt(f));
            if (!r.ok) failed = true;
            else expect(failed).toBe(false); // nothing decrypts after a failure
          }
          expect(failed).toBe(true);
          expect(channel.isFailed).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
