/**
 * A malicious relay on the client leg (a MITM in front of the real relay) attacks one victim client's frames:
 * tamper, replay/duplicate, reorder, drop, delay, reflect, inject, forge the reply, substitute low-order keys.
 * For each: the victim gets a *named* error (a PaseoError with a stable code), its channel closes, and the daemon
 * keeps serving an honest second client — during the attack and after it — without its relay link ever dropping.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaseoError, DecryptError } from "../../src/protocol/errors.js";
import { HandshakeError, ConnectionClosedError, TimeoutError } from "../../src/client/errors.js";
import { OfferRevokedError } from "../../src/protocol/offer-errors.js";
import { encodeChunks, MessageType } from "../../src/protocol/frame.js";
import { encodeControl } from "../../src/protocol/rpc.js";
import type { DaemonClient } from "../../src/client/daemon-client.js";
import { client, honestLs, outcome, relayUrl, startEnv, teardown, track, waitUntil, type Env } from "./env.js";
import { flipBit, startMitm, type Hook, type MitmProxy } from "./mitm-proxy.js";
import { lowOrderPoints } from "../protocol/shared-vectors.js";

let env: Env;
let proxy: MitmProxy;
let reconnectsAtStart: number;

beforeAll(async () => {
  // Loopback: every peer shares one IP, so lift the per-IP connection rate (tested on its own in resources).
  env = await startEnv({ relay: { perIpRatePerSecond: 1000 } });
  proxy = track(await startMitm(env.relay.endpoint), (p) => p.close());
  reconnectsAtStart = env.daemon.relayStatus!.reconnects;
});
afterAll(teardown);

const SLEEPER = [process.execPath, "-e", "setTimeout(() => {}, 15000)"];

function victim(
  hook: Hook,
  options: { requestTimeoutMs?: number; connectTimeoutMs?: number } = {},
): { c: DaemonClient; errors: PaseoError[] } {
  proxy.hook = hook;
  const c = client(env.offer, { url: relayUrl(proxy.endpoint, env.offer.serverId), ...options });
  const errors: PaseoError[] = [];
  c.on("error", (e) => errors.push(e));
  return { c, errors };
}

/** Run the attack while an honest client does an `ls`; then check the honest client again and the relay link. */
async function duringAndAfter<T>(attack: () => Promise<T>): Promise<T> {
  const [result, during] = await Promise.all([attack(), honestLs(env)]);
  expect(during).toBeGreaterThanOrEqual(0);
  await expect(honestLs(env)).resolves.toBeGreaterThanOrEqual(0);
  expect(env.daemon.relayStatus!.state).toBe("connected");
  expect(env.daemon.relayStatus!.reconnects).toBe(reconnectsAtStart);
  return result;
}

function expectNamed(error: unknown, cls: new (...args: never[]) => PaseoError, code: string): void {
  expect(error).toBeInstanceOf(PaseoError);
  expect(error).toBeInstanceOf(cls);
  expect((error as PaseoError).code).toBe(code);
}

const on =
  (dir: "up" | "down", index: number, action: ReturnType<Hook>): Hook =>
  (f) =>
    f.dir === dir && f.index === index ? action : "forward";

async function agentCount(): Promise<number> {
  return env.daemon.agents.list({ all: true }).length;
}

/** The usual victim workload: connect, then two requests in flight at once — during and after the attack. */
function connectThenTwoRequests(c: DaemonClient) {
  return duringAndAfter(async () => {
    await c.connect();
    return Promise.all([outcome(c.listAgents()), outcome(c.serverInfo())]);
  });
}

/** Every outcome failed, each with this named error class and code. */
function expectAllFailed(
  results: Awaited<ReturnType<typeof outcome>>[],
  cls: Parameters<typeof expectNamed>[1],
  code: string,
): void {
  for (const x of results) {
    expect(x.ok).toBe(false);
    if (!x.ok) expectNamed(x.error, cls, code);
  }
}

describe("tampering (one bit flipped)", () => {
  it("client→daemon transport message: the daemon closes 4108, the victim gets PROTOCOL_ERROR, nothing runs", async () => {
    const before = await agentCount();
    const { c } = victim((f) => (f.dir === "up" && f.index === 1 ? { replace: flipBit(f.data) } : "forward"));
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.runAgent({ argv: SLEEPER }));
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expectNamed(r.error, ConnectionClosedError, "PROTOCOL_ERROR");
      expect((r.error as ConnectionClosedError).closeCode).toBe(4108);
    }
    expect(await agentCount()).toBe(before);
  });

  it("daemon→client transport message: the victim raises DecryptError and closes its socket with 4108", async () => {
    const { c } = victim((f) =>
      f.dir === "down" && f.index === 1 ? { replace: flipBit(f.data, f.data.length - 3) } : "forward",
    );
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.listAgents());
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, DecryptError, "DECRYPT_FAILED");
    const conn = proxy.conns.at(-1)!;
    await waitUntil(() => conn.closedByPeer !== undefined, "victim closes its socket");
    expect(conn.closedByPeer!.code).toBe(4108);
  });

  it.each([
    ["the Noise payload", 13 + 40, 1, HandshakeError, "HANDSHAKE_FAILED", 4100],
    ["the offer id", 3, 1, OfferRevokedError, "OFFER_REVOKED", 4101],
    // Bit 7: 0x01 → 0x81, no such version (bit 1 would make 0x03, an enrollment hello: the offer id test's case).
    ["the version byte", 0, 7, ConnectionClosedError, "UNSUPPORTED_VERSION", 4111],
  ] as const)(
    "the hello (%s): refused with its own code and a named error",
    async (_what, byte, bit, cls, code, closeCode) => {
      const { c } = victim((f) =>
        f.dir === "up" && f.index === 0 ? { replace: flipBit(f.data, byte, bit) } : "forward",
      );
      const r = await duringAndAfter(() => outcome(c.listAgents()));
      expect(r.ok).toBe(false);
      if (!r.ok) expectNamed(r.error, cls as never, code);
      expect(proxy.conns.at(-1)!.closedByRelay?.code).toBe(closeCode);
      expect(c.state).not.toBe("connected");
    },
  );

  it("a truncated hello: closed with 4112 HELLO_INVALID (not 4108, which is for messages after the hello)", async () => {
    const { c } = victim((f) => (f.dir === "up" && f.index === 0 ? { replace: f.data.subarray(0, 20) } : "forward"));
    const r = await duringAndAfter(() => outcome(c.listAgents()));
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, ConnectionClosedError, "HELLO_INVALID");
    expect(proxy.conns.at(-1)!.closedByRelay?.code).toBe(4112);
  });

  it("the daemon's reply (message 2): the victim refuses it with HandshakeError and never reports connected", async () => {
    const { c } = victim((f) => (f.dir === "down" && f.index === 0 ? { replace: flipBit(f.data, 40) } : "forward"));
    const states: string[] = [];
    c.on("state", (s) => states.push(s));
    const r = await duringAndAfter(() => outcome(c.listAgents()));
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, HandshakeError, "HANDSHAKE_FAILED");
    expect(states).not.toContain("connected");
  });
});

describe("replay within a session (duplicate)", () => {
  it("a duplicated `run` runs once: the copy fails to decrypt and closes the channel (4108)", async () => {
    const before = await agentCount();
    const { c } = victim(on("up", 1, { duplicate: 1 }));
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.runAgent({ argv: SLEEPER, name: "dup-once" }));
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, ConnectionClosedError, "PROTOCOL_ERROR");
    // The first copy was genuine and ran; the replayed copy did not.
    await waitUntil(() => env.daemon.agents.list({ all: true }).length >= before + 1, "the genuine run", 3000);
    const all = await client(env.offer).listAgents({ all: true });
    expect(all.filter((a) => a.name === "dup-once")).toHaveLength(1);
    expect(all.length).toBe(before + 1);
  });

  it("a duplicated daemon→client message: the genuine one is delivered, the copy raises DecryptError", async () => {
    const { c, errors } = victim(on("down", 1, { duplicate: 1 }));
    const first = await duringAndAfter(async () => {
      await c.connect();
      const res = await outcome(c.listAgents());
      await waitUntil(() => errors.length > 0, "victim channel failed");
      return res;
    });
    expect(first.ok).toBe(true);
    expectNamed(errors[0], DecryptError, "DECRYPT_FAILED");
    expect(c.state).not.toBe("connected");
  });
});

describe("reordering", () => {
  it("client→daemon: two requests swapped → 4108 on the first out-of-order frame, both requests fail named", async () => {
    const { c } = victim((f) =>
      f.dir === "up" && f.index === 1 ? "hold" : f.dir === "up" && f.index === 2 ? "release" : "forward",
    );
    const r = await connectThenTwoRequests(c);
    expectAllFailed(r, ConnectionClosedError, "PROTOCOL_ERROR");
  });

  it("daemon→client: two responses swapped → DecryptError", async () => {
    const { c } = victim((f) =>
      f.dir === "down" && f.index === 1 ? "hold" : f.dir === "down" && f.index === 2 ? "release" : "forward",
    );
    const r = await connectThenTwoRequests(c);
    expectAllFailed(r, DecryptError, "DECRYPT_FAILED");
  });
});

describe("dropping", () => {
  it("client→daemon: a dropped request cannot be skipped — the next one fails to decrypt (4108)", async () => {
    const { c } = victim(on("up", 1, "drop"));
    const r = await connectThenTwoRequests(c);
    expectAllFailed(r, ConnectionClosedError, "PROTOCOL_ERROR");
  });

  it("client→daemon: a dropped last request times out (TimeoutError), and the next request fails with 4108", async () => {
    const { c } = victim(on("up", 1, "drop"), { requestTimeoutMs: 300 });
    const r = await duringAndAfter(async () => {
      await c.connect();
      const first = await outcome(c.listAgents());
      const second = await outcome(c.listAgents());
      return { first, second };
    });
    expect(r.first.ok).toBe(false);
    if (!r.first.ok) expectNamed(r.first.error, TimeoutError, "TIMEOUT");
    expect(r.second.ok).toBe(false);
    if (!r.second.ok) expectNamed(r.second.error, ConnectionClosedError, "PROTOCOL_ERROR");
  });

  it("daemon→client: a dropped response makes the next one fail to decrypt", async () => {
    const { c } = victim(on("down", 1, "drop"));
    const r = await connectThenTwoRequests(c);
    expectAllFailed(r, DecryptError, "DECRYPT_FAILED");
  });
});

describe("delaying", () => {
  it("an order-preserving delay only adds latency", async () => {
    const { c } = victim((f) => (f.dir === "down" ? { delay: 150 } : "forward"));
    const r = await duringAndAfter(async () => {
      const t = performance.now();
      const agents = await c.listAgents();
      return { agents, ms: performance.now() - t };
    });
    expect(Array.isArray(r.agents)).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(140);
  });

  it("a delay beyond the request timeout: TimeoutError, and the late answer is ignored", async () => {
    const { c, errors } = victim((f) => (f.dir === "down" && f.index >= 1 ? { delay: 600 } : "forward"), {
      requestTimeoutMs: 200,
    });
    const r = await duringAndAfter(async () => {
      await c.connect();
      const res = await outcome(c.serverInfo());
      await new Promise((resolve) => setTimeout(resolve, 600)); // the late answer arrives and is dropped
      return res;
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, TimeoutError, "TIMEOUT");
    expect(errors).toEqual([]);
  });
});

describe("reflection", () => {
  it("the victim's own request sent back to it: DecryptError", async () => {
    const { c } = victim(on("up", 1, "reflect"));
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.listAgents());
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, DecryptError, "DECRYPT_FAILED");
  });

  it("the daemon's response sent back to the daemon: 4108, the victim's request fails named", async () => {
    const { c } = victim(on("down", 1, "reflect"));
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.listAgents());
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, ConnectionClosedError, "PROTOCOL_ERROR");
  });

  it("the hello sent back as the reply: HandshakeError", async () => {
    const { c } = victim(on("up", 0, "reflect"));
    const r = await duringAndAfter(() => outcome(c.listAgents()));
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, HandshakeError, "HANDSHAKE_FAILED");
  });
});

describe("injection of forged messages", () => {
  const plaintextResponse = encodeChunks({
    type: MessageType.CONTROL,
    body: encodeControl({ t: "res", id: 1, ok: true, result: [{ id: "forged" }] }),
  })[0]!;

  it("a forged plaintext response to the victim: DecryptError, the forged result is never delivered", async () => {
    const { c } = victim((f) => {
      if (f.dir === "up" && f.index === 1) {
        f.conn.toPeer(plaintextResponse);
        return "drop";
      }
      return "forward";
    });
    const r = await duringAndAfter(async () => {
      await c.connect();
      return outcome(c.listAgents());
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expectNamed(r.error, DecryptError, "DECRYPT_FAILED");
  });

  it("a forged plaintext request to the daemon: closed with 4108", async () => {
    const { c, errors } = victim(() => "forward");
    await duringAndAfter(async () => {
      await c.connect();
      proxy.conns.at(-1)!.toRelay(
        encodeChunks({
          type: MessageType.CONTROL,
          body: encodeControl({ t: "req", id: 1, method: "agents.run", params: { argv: SLEEPER } }),
        })[0]!,
      );
      await waitUntil(() => errors.length > 0, "victim error");
    });
    expectNamed(errors[0], ConnectionClosedError, "PROTOCOL_ERROR");
  });

  it("a text frame to the victim: a named error, not a crash", async () => {
    const { c, errors } = victim(() => "forward");
    await duringAndAfter(async () => {
      await c.connect();
      proxy.conns.at(-1)!.toPeer('{"t":"res","id":1,"ok":true,"result":[]}');
      await waitUntil(() => errors.length > 0, "victim error");
    });
    expectNamed(errors[0], PaseoError, "PROTOCOL_ERROR");
    expect(proxy.conns.at(-1)!.closedByPeer?.code).toBe(4108);
  });

  it("a text frame toward the relay: the relay closes with 4000 (BAD_REQUEST)", async () => {
    const { c, errors } = victim(() => "forward");
    await duringAndAfter(async () => {
      await c.connect();
      proxy.conns.at(-1)!.toRelay("hello");
      await waitUntil(() => errors.length > 0, "victim error");
    });
    expectNamed(errors[0], ConnectionClosedError, "BAD_REQUEST");
  });

  it("a forged reply to the hello (random bytes, or a reply recorded from another session): HandshakeError", async () => {
    // Record a genuine reply first.
    const { c: first } = victim(() => "forward");
    await first.listAgents();
    first.close();
    const recordedReply = proxy.conns.at(-1)!.frames.find((f) => f.dir === "down" && f.index === 0)!.data;
    for (const forged of [new Uint8Array(200).map(() => (Math.random() * 256) | 0), recordedReply]) {
      const { c } = victim((f) => {
        if (f.dir === "up" && f.index === 0) {
          f.conn.toPeer(forged);
          return "drop";
        }
        return "forward";
      });
      const states: string[] = [];
      c.on("state", (s) => states.push(s));
      const r = await duringAndAfter(() => outcome(c.listAgents()));
      expect(r.ok).toBe(false);
      if (!r.ok) expectNamed(r.error, HandshakeError, "HANDSHAKE_FAILED");
      expect(states).not.toContain("connected");
    }
  });
});

/** X25519 public keys that give an all-zero DH result (Wycheproof), named by their first bytes. */
const LOW_ORDER_POINTS: Record<string, string> = Object.fromEntries(
  lowOrderPoints().map((hex) => [`${hex.slice(0, 8)}…`, hex]),
);

describe("low-order / all-zero key substitution", () => {
  it.each(Object.entries(LOW_ORDER_POINTS))(
    "client ephemeral replaced by %s: the daemon refuses (4100, LOW_ORDER_POINT)",
    async (name, hex) => {
      const point = Buffer.from(hex, "hex");
      const { c } = victim((f) => {
        if (f.dir !== "up" || f.index !== 0) return "forward";
        const forged = Buffer.from(f.data);
        point.copy(forged, 13);
        return { replace: forged };
      });
      const logsBefore = env.logs.length;
      const r = await duringAndAfter(() => outcome(c.listAgents()));
      expect(r.ok, name).toBe(false);
      if (!r.ok) expectNamed(r.error, HandshakeError, "HANDSHAKE_FAILED");
      expect(proxy.conns.at(-1)!.closedByRelay?.code).toBe(4100);
      // "p-1" is a low-order point only after reduction; every one of these makes es all-zero.
      expect(env.logs.slice(logsBefore).some((l) => l.msg.includes("handshake failed (LOW_ORDER_POINT)"))).toBe(true);
    },
  );

  it.each(Object.keys(LOW_ORDER_POINTS))(
    "daemon ephemeral in the reply replaced by %s: the victim refuses it (LOW_ORDER_POINT)",
    async (name) => {
      const point = Buffer.from(LOW_ORDER_POINTS[name]!, "hex");
      const { c } = victim((f) => {
        if (f.dir !== "down" || f.index !== 0) return "forward";
        const forged = Buffer.from(f.data);
        point.copy(forged, 0);
        return { replace: forged };
      });
      const r = await duringAndAfter(() => outcome(c.listAgents()));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expectNamed(r.error, HandshakeError, "HANDSHAKE_FAILED");
        expect(r.error.message).toContain("LOW_ORDER_POINT");
      }
    },
  );
});
