/**
 * Fuzz: the relay mux decoder (daemon leg) and the RPC validator (decodeControl + validateParams) on random,
 * mutated and adversarially shaped input. A value or a named error (MuxDecodeError, RpcProtocolError, ParamsError),
 * never another exception, never a hang; whatever is accepted has exactly the promised shape.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { verifyAuth, createChallenge } from "../../src/protocol/relay-auth.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { decodeMux, encodeMux, MuxDecodeError, type MuxMessage } from "../../src/protocol/relay-mux.js";
import { decodeControl, encodeControl, RpcProtocolError, type ControlMessage } from "../../src/protocol/rpc.js";
import { isMethod, ParamsError, validateParams } from "../../src/protocol/rpc-params.js";
import { mutated, named, RUNS } from "./fuzz-helpers.js";

const u32 = fc.nat({ max: 0xffff_ffff });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const muxArb: fc.Arbitrary<MuxMessage> = fc.oneof(
  fc.record({ type: fc.constant("challenge" as const), ephemeralPublicKey: bytes32, nonce: bytes32 }),
  fc.record({ type: fc.constant("auth" as const), publicKey: bytes32, mac: bytes32 }),
  fc.constant({ type: "ready" as const }),
  fc.record({ type: fc.constant("open" as const), clientId: u32 }),
  fc.record({ type: fc.constant("data" as const), clientId: u32, payload: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({
    type: fc.constant("close" as const),
    clientId: u32,
    code: fc.integer({ min: 0, max: 0xffff }),
    reason: fc.string({ maxLength: 30 }),
  }),
  fc.record({ type: fc.constant("pause" as const), clientId: u32 }),
  fc.record({ type: fc.constant("resume" as const), clientId: u32 }),
);

describe("relay mux decoder", () => {
  it("every encodable message decodes to itself", () => {
    fc.assert(
      fc.property(muxArb, (m) => {
        expect(decodeMux(encodeMux(m))).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it("random and mutated bytes: a well-formed message or MuxDecodeError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(muxArb.map(encodeMux))), (b) => {
        const r = named(() => decodeMux(b));
        if (!r.ok) return void expect(r.error).toBeInstanceOf(MuxDecodeError);
        // Accepted means canonical: re-encoding gives back the same bytes.
        expect(Buffer.from(encodeMux(r.value)).equals(Buffer.from(b))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("non-Uint8Array input is a named error", () => {
    for (const v of [undefined, null, "x", [1, 2], { length: 3 }]) {
      const r = named(() => decodeMux(v as unknown as Uint8Array));
      expect(r.ok).toBe(false);
    }
  });

  it("the relay's AUTH check never throws on hostile input and never accepts it", () => {
    const state = () => createChallenge(nativeBackend);
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 100 }), mutated(muxArb.map(encodeMux))),
        fc.string({ maxLength: 30 }),
        (b, serverId) => {
          const r = named(() => verifyAuth(nativeBackend, state(), serverId, b));
          expect(r.ok && r.value).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

const METHODS = [
  "server.info",
  "agents.list",
  "agents.get",
  "agents.run",
  "agents.logs",
  "agents.unsubscribe",
  "agents.input",
  "agents.stop",
  "exec",
];
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 2 ** 31, 1.5, "", "x".repeat(70_000), [], {}, null, true),
);
const paramsArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      "argv",
      "cwd",
      "env",
      "name",
      "shell",
      "id",
      "sub",
      "since",
      "follow",
      "dataB64",
      "graceMs",
      "timeoutMs",
      "maxOutputBytes",
      "all",
      "__proto__",
      "constructor",
      "toString",
    ),
    fc.string({ maxLength: 8 }),
  ),
  fc.oneof(
    hostileValue,
    fc.array(fc.oneof(fc.string({ maxLength: 10 }), hostileValue), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), hostileValue, { maxKeys: 4 }),
  ),
  { maxKeys: 6 },
);

describe("RPC validator", () => {
  it("decodeControl on random and mutated bytes: a known shape or RpcProtocolError", () => {
    const genuine: fc.Arbitrary<ControlMessage> = fc.oneof(
      fc.record({
        t: fc.constant("req" as const),
        id: fc.nat({ max: 2 ** 31 - 1 }),
        method: fc.constantFrom(...METHODS),
        params: paramsArb,
      }),
      fc.record({
        t: fc.constant("res" as const),
        id: fc.nat({ max: 2 ** 31 - 1 }),
        ok: fc.constant(true as const),
        result: fc.jsonValue({ maxDepth: 2 }),
      }),
      fc.record({
        t: fc.constant("evt" as const),
        sub: fc.nat({ max: 2 ** 31 - 1 }),
        event: fc.constantFrom("end" as const, "error" as const),
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          mutated(genuine.map(encodeControl)),
          fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "")),
        ),
        (b) => {
          const r = named(() => decodeControl(b));
          if (!r.ok) return void expect(r.error).toBeInstanceOf(RpcProtocolError);
          const m = r.value;
          expect(["req", "res", "evt", "welcome"]).toContain(m.t);
          if (m.t === "req") {
            expect(Number.isInteger(m.id) && m.id >= 0 && m.id < 2 ** 31).toBe(true);
            expect(typeof m.method).toBe("string");
            expect(typeof m.params === "object" && m.params !== null && !Array.isArray(m.params)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("validateParams on hostile params for every method: typed params or ParamsError", () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), paramsArb, (method, params) => {
        expect(isMethod(method)).toBe(true);
        const r = named(() => validateParams(method as never, JSON.parse(JSON.stringify(params))));
        if (!r.ok) return void expect(r.error).toBeInstanceOf(ParamsError);
        // Accepted params never carry a key the method does not know.
        const v = r.value as Record<string, unknown>;
        for (const [k, x] of Object.entries(v)) if (x !== undefined) expect(Object.keys(params)).toContain(k);
      }),
      { numRuns: 2000 },
    );
  });

  it("request objects straight from decodeControl into validateParams (the daemon's path)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 70 })), paramsArb, (method, params) => {
        const body = new TextEncoder().encode(JSON.stringify({ t: "req", id: 1, method, params }));
        const d = named(() => decodeControl(body));
        if (!d.ok || d.value.t !== "req") return;
        const req = d.value;
        if (!isMethod(req.method)) return; // UNKNOWN_METHOD reply
        const r = named(() => validateParams(req.method as never, req.params));
        if (!r.ok) expect(r.error).toBeInstanceOf(ParamsError);
      }),
      { numRuns: 1000 },
    );
  });

  it("method names that exist on Object.prototype are not methods", () => {
    for (const m of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"])
      expect(isMethod(m)).toBe(false);
  });
});
