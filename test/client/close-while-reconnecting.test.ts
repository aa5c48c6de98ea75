/**
 * close() during a reconnect backoff ends the waiting call at once (a follower that gives up must not hang on a
 * cleared timer). Real socket to a loopback port where nothing listens.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { DaemonClient } from "../../src/client/daemon-client.js";
import { makeOffer } from "../offers/make-offer.js";

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("DaemonClient.close() while reconnecting", () => {
  it("rejects the pending connect promptly instead of hanging", async () => {
    const port = await closedPort();
    const client = new DaemonClient({
      offer: makeOffer({}, { endpoint: `127.0.0.1:${port}`, tls: false }),
      reconnect: { minMs: 60_000, maxMs: 60_000 },
    });
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    const pending = client.connect();
    const outcome = pending.then(
      () => "connected",
      (e: { code: string }) => e.code,
    );
    while (errors.length === 0) await new Promise((r) => setTimeout(r, 20)); // first attempt failed: now in backoff
    const started = Date.now();
    client.close();
    const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("hung"), 2000))]);
    expect(result).toBe("RELAY_UNREACHABLE");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
