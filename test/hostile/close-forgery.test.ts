/**
 * Attack (issue 15 item 9): a relay forges the daemon's close codes. Close codes cross the relay in clear, so a
 * hostile relay can close a live session with "4103 offer revoked" and — on the old client — make a follower give
 * up for good. The rule now (docs/protocol.md §4): on an established session only the daemon's encrypted CLOSE can
 * stop a client; before the handshake a permanent-looking refusal is believed only after it repeats
 * (PRE_HANDSHAKE_REFUSALS_BELIEVED). A genuine revocation still stops the client.
 *
 * Real `paseo relay` and `paseo daemon start` processes, the real CLI (`paseo logs -f`) as the client, and
 * mitm-proxy.ts in front of the relay as the hostile relay (the link is re-pointed at the proxy).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  killAll,
  runCli,
  startDaemonProcess,
  startProcess,
  startRelayProcess,
  tmpHome,
  type Proc,
} from "../e2e/harness.js";
import { startMitm, type MitmProxy, type ProxyConn } from "./mitm-proxy.js";
import { offerToLink, parseOffer } from "../../src/protocol/offer.js";
import { PRE_HANDSHAKE_REFUSALS_BELIEVED } from "../../src/client/permanent.js";

const proxies: MitmProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(killAll);

interface Setup {
  proxy: MitmProxy;
  home: string;
  offerId: string;
  /** A file holding the link re-pointed at the proxy (mode 0600). */
  viaProxy: string;
  /** A file holding the original link (straight to the relay), for the test's own commands. */
  direct: string;
}

async function setup(): Promise<Setup> {
  const relay = await startRelayProcess();
  const daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  const offer = parseOffer(daemon.link!);
  const proxy = await startMitm({ endpoint: relay.endpoint, tls: false });
  proxies.push(proxy);
  const dir = tmpHome();
  const viaProxy = join(dir, "proxied.link");
  const direct = join(dir, "direct.link");
  writeFileSync(viaProxy, offerToLink({ ...offer, relay: proxy.endpoint }, `http://${proxy.endpoint.endpoint}/`), {
    mode: 0o600,
  });
  writeFileSync(direct, daemon.link!, { mode: 0o600 });
  const run = await runCli([
    "run",
    "--relay",
    direct,
    "--name",
    "ticker",
    "--",
    "sh",
    "-c",
    "i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.1; done",
  ]);
  expect(run.code, run.stderr).toBe(0);
  return { proxy, home: daemon.home, offerId: offer.offerId, viaProxy, direct };
}

function clientConns(proxy: MitmProxy): ProxyConn[] {
  return proxy.conns.filter((c) => c.role === "client");
}

/** The follower's current connection through the proxy, once it carries output. */
async function liveConn(proxy: MitmProxy, follower: Proc): Promise<ProxyConn> {
  const before = follower.stdout().length;
  await follower.waitFor(new RegExp(`[\\s\\S]{${before}}[\\s\\S]*tick\\d+\\n`));
  return clientConns(proxy).at(-1)!;
}

async function stopTicker(s: Setup): Promise<void> {
  await runCli(["stop", "ticker", "--relay", s.direct]);
}

describe("a relay cannot make a client stop by forging the daemon's close codes", () => {
  it("a forged 4103 on an established session: logs -f reconnects and the output goes on", async () => {
    const s = await setup();
    const follower = startProcess(["logs", "-f", "ticker", "--relay", s.viaProxy]);
    const conn = await liveConn(s.proxy, follower);
    const before = clientConns(s.proxy).length;
    conn.downstream.close(4103, "offer revoked"); // the relay's lie: no encrypted CLOSE precedes it
    conn.upstream?.terminate();
    await follower.waitFor(/reconnected; the output resumes/, 10_000);
    expect(follower.stderr()).toMatch(
      /closed with 4103 OFFER_REVOKED \(offer revoked\), but not by the daemon.s authenticated CLOSE — not trusted/,
    );
    expect(clientConns(s.proxy).length).toBeGreaterThan(before);
    const seen = follower.stdout().length;
    await follower.waitFor(new RegExp(`[\\s\\S]{${seen}}[\\s\\S]*tick\\d+\\n`)); // still following
    expect(follower.proc.exitCode).toBeNull();
    await stopTicker(s);
    await follower.exited;
  }, 60_000);

  it("a forged 4103 answering one reconnect's hello: believed only if it repeats, so the follower carries on", async () => {
    const s = await setup();
    const follower = startProcess(["logs", "-f", "ticker", "--relay", s.viaProxy]);
    const conn = await liveConn(s.proxy, follower);
    const next = clientConns(s.proxy).length;
    let forged = 0;
    s.proxy.hook = (f) => {
      // The first hello after the blip is answered with a forged refusal, before the daemon ever sees it.
      if (
        f.conn.role === "client" &&
        f.dir === "up" &&
        f.index === 0 &&
        clientConns(s.proxy).indexOf(f.conn) === next &&
        forged++ === 0
      ) {
        f.conn.downstream.close(4103, "offer revoked");
        return "drop";
      }
      return "forward";
    };
    conn.sever(); // a network blip
    await follower.waitFor(/reconnected; the output resumes/, 10_000);
    expect(forged).toBe(1);
    expect(follower.proc.exitCode).toBeNull();
    await stopTicker(s);
    await follower.exited;
  }, 60_000);

  it("a genuine revocation still stops the follower, with OFFER_REVOKED and a bounded number of attempts", async () => {
    const s = await setup();
    const follower = startProcess(["logs", "-f", "ticker", "--relay", s.viaProxy]);
    const conn = await liveConn(s.proxy, follower);
    const before = clientConns(s.proxy).length;
    const revoke = await runCli(["daemon", "offers", "revoke", s.offerId, "--home", s.home]);
    expect(revoke.code, revoke.stderr).toBe(0);
    // A daemon that ends revoked sessions at once (issue 15 item 3) sends the encrypted CLOSE 4103: the follower
    // stops without a single reconnect. A daemon that checks offers only at the next handshake needs a reconnect
    // to say so: cut the path, and the real daemon's pre-handshake 4103 is believed once it repeats.
    const stoppedAlone = await Promise.race([
      follower.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
    ]);
    if (!stoppedAlone) conn.sever();
    const code = await Promise.race([
      follower.exited,
      new Promise<string>((r) => setTimeout(() => r("still running"), 15_000)),
    ]);
    expect(code).not.toBe("still running");
    expect(code).not.toBe(0);
    expect(follower.stderr()).toMatch(/revoked/);
    const attempts = clientConns(s.proxy).length - before;
    expect(attempts).toBeLessThanOrEqual(stoppedAlone ? 0 : PRE_HANDSHAKE_REFUSALS_BELIEVED);
    await stopTicker(s);
  }, 60_000);
});
