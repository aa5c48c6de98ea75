/**
 * Tagged OPENs (docs/protocol.md §5.3): a daemon that registers with `mux=2` learns, per client, an opaque tag that
 * is equal for clients from the same address and differs across addresses, so it can share its handshake slots per
 * source; a daemon that did not ask keeps getting the 5-byte OPEN it has always parsed. 127.0.0.2 is a second
 * source address (all of 127/8 is loopback on Linux).
 */
import { afterEach, describe, expect, it } from "vitest";
import { decodeMux, encodeOpen, MuxDecodeError, SOURCE_TAG_BYTES } from "../../src/protocol/relay-mux.js";
import { TestClient, TestDaemon, cleanup, describeRelays, relayFor, waitUntil } from "./helpers.js";

afterEach(cleanup);

type Open = { type: "open"; clientId: number; source?: Uint8Array };
const opens = (d: TestDaemon) => d.messages.filter((m): m is Open => m.type === "open");
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "none");

describe("source tags in OPEN", () => {
  it("codec: 5-byte and 13-byte OPENs round-trip; any other length is malformed", () => {
    const tag = Uint8Array.from({ length: SOURCE_TAG_BYTES }, (_, i) => i + 1);
    expect(decodeMux(encodeOpen(7))).toEqual({ type: "open", clientId: 7 });
    expect(decodeMux(encodeOpen(7, tag))).toEqual({ type: "open", clientId: 7, source: tag });
    expect(() => decodeMux(encodeOpen(7, tag).subarray(0, 12))).toThrow(MuxDecodeError);
    expect(() => decodeMux(Uint8Array.of(...encodeOpen(7, tag), 0))).toThrow(MuxDecodeError);
  });
});

describeRelays("source tags in OPEN", () => {
  it("a mux=2 daemon gets equal tags for one address and different ones across addresses; others get none", async () => {
    const relay = await relayFor();
    const tagged = await TestDaemon.connect(relay, { mux: 2 });
    const plain = await TestDaemon.connect(relay);
    for (const d of [tagged, plain]) {
      await TestClient.connect(relay, d.serverId, { localAddress: "127.0.0.1" });
      await TestClient.connect(relay, d.serverId, { localAddress: "127.0.0.1" });
      await TestClient.connect(relay, d.serverId, { localAddress: "127.0.0.2" });
      await waitUntil(() => opens(d).length === 3, "3 OPENs");
    }
    const [a, b, c] = opens(tagged).map((o) => o.source);
    expect(a).toHaveLength(SOURCE_TAG_BYTES);
    expect(hex(a)).toBe(hex(b));
    expect(hex(a)).not.toBe(hex(c));
    expect(opens(plain).map((o) => o.source)).toEqual([undefined, undefined, undefined]);
  });
});
