import { describe, expect, it } from "vitest";
import {
  type MuxMessage,
  MuxDecodeError,
  MuxEncodeError,
  decodeMux,
  encodeClose,
  encodeData,
  encodeMux,
  encodeOpen,
} from "../../src/protocol/relay-mux.js";

const key = new Uint8Array(32).fill(1);
const nonce = new Uint8Array(32).fill(2);

describe("relay mux codec", () => {
  it("round-trips every message type", () => {
    const messages: MuxMessage[] = [
      { type: "challenge", ephemeralPublicKey: key, nonce },
      { type: "auth", publicKey: key, mac: nonce },
      { type: "ready" },
      { type: "open", clientId: 0xffff_ffff },
      { type: "data", clientId: 7, payload: Uint8Array.of(1, 2, 3) },
      { type: "data", clientId: 7, payload: new Uint8Array(0) },
      { type: "close", clientId: 9, code: 4101, reason: "offer not recognised — ü" },
      { type: "close", clientId: 9, code: 1000, reason: "" },
      { type: "pause", clientId: 1 },
      { type: "resume", clientId: 2 },
    ];
    for (const m of messages) expect(decodeMux(encodeMux(m))).toEqual(m);
  });

  it("uses the documented layouts (§5.2, §5.3)", () => {
    expect([...encodeOpen(0x01020304)]).toEqual([0x10, 1, 2, 3, 4]);
    expect([...encodeData(1, Uint8Array.of(9))]).toEqual([0x11, 0, 0, 0, 1, 9]);
    expect([...encodeClose(2, 4100, "x")]).toEqual([0x12, 0, 0, 0, 2, 0x10, 0x04, 0x78]);
    expect(encodeMux({ type: "challenge", ephemeralPublicKey: key, nonce })[0]).toBe(0x01);
    expect(encodeMux({ type: "ready" })).toEqual(Uint8Array.of(0x03));
  });

  it("decodes views without copying, also from an offset Buffer", () => {
    const backing = Buffer.concat([Buffer.from([0xaa, 0xbb]), Buffer.from(encodeData(5, Uint8Array.of(4, 5)))]);
    const m = decodeMux(backing.subarray(2));
    if (m.type !== "data") throw new Error("expected DATA");
    expect(m.clientId).toBe(5);
    expect([...m.payload]).toEqual([4, 5]);
    expect(m.payload.buffer).toBe(backing.buffer); // a view, not a copy
  });

  it("rejects malformed messages with MuxDecodeError", () => {
    const bad: number[][] = [
      [],
      [0x00],
      [0x15, 0, 0, 0, 1],
      [0x01, ...new Array<number>(63).fill(0)], // CHALLENGE one short
      [0x02, ...new Array<number>(65).fill(0)], // AUTH one long
      [0x03, 0],
      [0x10, 0, 0, 0],
      [0x10, 0, 0, 0, 1, 0],
      [0x11, 0, 0, 0],
      [0x12, 0, 0, 0, 1, 0x10],
      [0x12, 0, 0, 0, 1, 0x10, 0x04, 0xff], // invalid UTF-8 reason
      [0x12, 0, 0, 0, 1, 0x10, 0x04, ...new Array<number>(124).fill(0x61)], // reason > 123 bytes
      [0x13, 0, 0, 0, 1, 1],
      [0x14],
    ];
    for (const b of bad)
      expect(() => decodeMux(Uint8Array.from(b)), JSON.stringify(b.slice(0, 8))).toThrow(MuxDecodeError);
    expect(() => decodeMux(Uint8Array.of(0x7f))).toThrow(expect.objectContaining({ code: "MUX_DECODE" }));
  });

  it("refuses to encode out-of-range values", () => {
    expect(() => encodeOpen(-1)).toThrow(MuxEncodeError);
    expect(() => encodeOpen(2 ** 32)).toThrow(MuxEncodeError);
    expect(() => encodeOpen(1.5)).toThrow(MuxEncodeError);
    expect(() => encodeClose(1, 70000)).toThrow(MuxEncodeError);
    expect(() => encodeClose(1, 4100, "x".repeat(124))).toThrow(MuxEncodeError);
    expect(() => encodeMux({ type: "auth", publicKey: new Uint8Array(31), mac: nonce })).toThrow(MuxEncodeError);
  });
});
