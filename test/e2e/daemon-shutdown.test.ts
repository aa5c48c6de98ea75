/**
 * Issue 12 (spec): when a daemon process stops, every client hears it from the daemon — an authenticated CLOSE
 * 4110 inside the channel, then a WebSocket close 4110 (docs/protocol.md §4, §7) — on the embedded relay path and on
 * the direct local path. Before the teardown fix, the embedded relay was stopped first and clients saw its 4009
 * RELAY_RESTARTING (and the local path lost the encrypted CLOSE).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { decodeClose, MessageType } from "../../src/protocol/frame.js";
import { parseOffer, type Offer } from "../../src/protocol/offer.js";
import { LOCAL_OFFER_FILE } from "../../src/daemon/runtime-files.js";
import { rawSession, relayUrl, request, teardown, withTimeout, type RawSession } from "../hostile/env.js";
import { killAll, startDaemonProcess } from "./harness.js";

afterAll(killAll);
afterEach(teardown);

/** Every message after the last read one, decrypted, until the socket closes: the CLOSE bodies and the close code. */
async function closeSeen(s: RawSession): Promise<{ encrypted: { code: number; reason: string }[]; socket: number }> {
  const { code } = await withTimeout(s.sock.closed, 10_000, "socket close after daemon stop");
  const encrypted = [];
  for (const bytes of s.sock.received.slice(s.cursor)) {
    const m = s.channel.decrypt(new Uint8Array(bytes));
    if (m?.type === MessageType.CLOSE) encrypted.push(decodeClose(m.body));
  }
  return { encrypted, socket: code };
}

describe("daemon stop reaches every client as 4110 DAEMON_SHUTDOWN", () => {
  it("through the embedded relay and on the direct local path: encrypted CLOSE 4110, then socket close 4110", async () => {
    const daemon = await startDaemonProcess({ args: ["--relay-port", "0"] });
    const relayed: Offer = parseOffer(daemon.link!);
    const local: Offer = parseOffer(readFileSync(join(daemon.home, LOCAL_OFFER_FILE), "utf8"));
    const viaRelay = await rawSession(relayUrl(relayed.relay, relayed.serverId), relayed, {
      early: request(1, "agents.list"),
    });
    const direct = await rawSession(relayUrl(local.relay, local.serverId), local, { early: request(1, "agents.list") });
    expect((await viaRelay.response(1)).ok).toBe(true);
    expect((await direct.response(1)).ok).toBe(true);

    await daemon.stop(); // SIGTERM: the daemon's own orderly shutdown
    for (const s of [viaRelay, direct]) {
      expect(await closeSeen(s)).toEqual({ encrypted: [{ code: 4110, reason: "daemon shutting down" }], socket: 4110 });
    }
  });
});
