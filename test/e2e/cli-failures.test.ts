/**
 * Every failure a user can hit gives its named error, exit code 1 and one line on stderr, quickly — and no output
 * ever contains the pairing secret or the link. Real relay, daemon and CLI processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAll,
  runCli,
  sleep,
  startDaemonProcess,
  startRelayProcess,
  type DaemonProc,
  type RelayProc,
} from "./harness.js";

let relay: RelayProc;
let daemon: DaemonProc;
const secrets: string[] = [];

function decode(link: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(link.split("#offer=")[1]!, "base64url").toString());
}
function encode(base: string, offer: Record<string, unknown>): string {
  return `${base}/#offer=${Buffer.from(JSON.stringify(offer)).toString("base64url")}`;
}
async function pair(args: string[]): Promise<string> {
  const r = await runCli(["daemon", "pair", "--bearer", "--json", "--home", daemon.home, ...args]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  secrets.push(out.offer.secretB64, out.link);
  return out.link as string;
}

/** Run `ls` with this link and check the failure contract. */
async function expectFailure(link: string, code: RegExp, env: Record<string, string> = {}) {
  const r = await runCli(["ls", "--relay", link], { env });
  expect(r.code, r.stdout + r.stderr).toBe(1);
  // One line — besides, on a multi-user machine, the warning that a link sat in argv (test/hostile/argv-leak.test.ts).
  expect(
    r.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("paseo: warning:")),
  ).toHaveLength(1);
  expect(r.stderr).toMatch(code);
  expect(r.ms).toBeLessThan(2000);
  for (const [i, s] of [...secrets, link].entries()) {
    // Boolean checks: a failing `not.toContain` would print the very secret it caught.
    expect(r.stderr.includes(s) || r.stdout.includes(s), `output leaks secret #${i}`).toBe(false);
  }
  return r;
}

beforeAll(async () => {
  relay = await startRelayProcess();
  daemon = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
  secrets.push(daemon.link!, decode(daemon.link!).secretB64 as string);
});
afterAll(async () => {
  try {
    // Logs (stderr of relay and daemon) never contain a secret or a link; the daemon's stdout prints its own
    // start link on purpose, nothing else.
    for (const [i, s] of secrets.entries()) {
      expect(relay.stderr().includes(s) || daemon.stderr().includes(s), `a log line leaks secret #${i}`).toBe(false);
    }
  } finally {
    await killAll();
  }
});

describe("CLI failures", () => {
  it("malformed link → OFFER_INVALID", async () => {
    await expectFailure("https://relay.example/#offer=bm90IGFuIG9mZmVy", /OFFER_INVALID/);
    await expectFailure("https://relay.example/#offer=%%%", /OFFER_INVALID/);
  });

  it("wrong secret → HANDSHAKE_FAILED from the daemon", async () => {
    const offer = decode(daemon.link!);
    offer.secretB64 = Buffer.alloc(32, 7).toString("base64url");
    secrets.push(offer.secretB64 as string);
    await expectFailure(encode("http://x", offer), /handshake failed.*HANDSHAKE_FAILED/);
  });

  it("wrong daemon key → refused before connecting (serverId must match the key)", async () => {
    const offer = decode(daemon.link!);
    offer.daemonPublicKeyB64 = Buffer.alloc(32, 9).toString("base64url");
    await expectFailure(encode("http://x", offer), /OFFER_INVALID/);
  });

  it("revoked offer → OFFER_REVOKED; once offer used twice → OFFER_REVOKED", async () => {
    const link = await pair(["--label", "to-revoke"]);
    expect((await runCli(["ls", "--relay", link])).code).toBe(0);
    const revoke = await runCli(["daemon", "offers", "revoke", decode(link).offerId as string, "--home", daemon.home]);
    expect(revoke.code, revoke.stderr).toBe(0);
    await expectFailure(link, /revoked.*OFFER_REVOKED/);

    const once = await pair(["--once"]);
    expect((await runCli(["ls", "--relay", once])).code).toBe(0);
    await expectFailure(once, /already used.*OFFER_REVOKED/);
  });

  it("rotate revokes every standing offer and issues a working one", async () => {
    const old = await pair([]);
    const fresh = await pair(["--rotate"]);
    await expectFailure(old, /OFFER_REVOKED/);
    expect((await runCli(["ls", "--relay", fresh])).code).toBe(0);
  });

  it("expired offer → OFFER_EXPIRED", async () => {
    const link = await pair(["--ttl", "1s"]);
    await sleep(1100);
    await expectFailure(link, /expired.*OFFER_EXPIRED/);
  });

  it("relay unreachable → RELAY_UNREACHABLE", async () => {
    const offer = decode(daemon.link!);
    offer.relay = { endpoint: "127.0.0.1:1", tls: false };
    await expectFailure(
      encode("http://127.0.0.1:1", offer),
      /nothing is listening at 127\.0\.0\.1:1 on this machine.*RELAY_UNREACHABLE/,
    );
  });

  it("daemon offline → DAEMON_OFFLINE within the relay's grace", async () => {
    const other = await startDaemonProcess({ relay: `ws://${relay.endpoint}` });
    secrets.push(other.link!);
    await other.stop();
    await expectFailure(other.link!, /daemon offline.*DAEMON_OFFLINE/);
  });

  it("no daemon and no relay → a clear DAEMON_OFFLINE naming the home", async () => {
    const r = await runCli(["ls", "--home", "/nonexistent-paseo-home"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no daemon is running with home \/nonexistent-paseo-home.*DAEMON_OFFLINE/);
  });

  it("usage errors exit 2 and never echo a pasted link (commander prints rejected values)", async () => {
    const r = await runCli(["logs"]);
    expect(r.code).toBe(2);
    for (const args of [
      ["daemon", "pair", "--home", daemon.home, "--ttl", daemon.link!],
      ["daemon", "pair", "--home", daemon.home, "--label", daemon.link!],
      ["ls", "--timeout", daemon.link!],
    ]) {
      const bad = await runCli(args);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/invalid/);
      expect(
        bad.stderr.includes(daemon.link!.split("#offer=")[1]!.slice(0, 40)),
        "a usage error echoed the offer",
      ).toBe(false);
    }
  });
});
