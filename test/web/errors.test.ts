/** The app's failure messages: each named client error maps to a title and a next step (no browser needed). */
import { describe, expect, it } from "vitest";
import {
  CloseCode,
  ConnectionClosedError,
  DaemonOfflineError,
  HandshakeError,
  OfferError,
  OfferExpiredError,
  OfferRevokedError,
  OfferVersionError,
  PaseoError,
  RelayUnreachableError,
  RpcError,
  TimeoutError,
  errorForClose,
} from "../../src/index.js";
import { explain } from "../../src/web/errors.js";
import { agentStatus } from "../../src/web/format.js";

describe("explain()", () => {
  const cases: [unknown, string, RegExp, RegExp, boolean][] = [
    [new OfferExpiredError("2020-01-01T00:00:00.000Z"), "OFFER_EXPIRED", /expired/, /paseo daemon pair/, false],
    [new OfferRevokedError("revoked"), "OFFER_REVOKED", /revoked/, /paseo daemon pair/, false],
    [new OfferRevokedError("used"), "OFFER_REVOKED", /already used/, /paseo daemon pair/, false],
    [new OfferRevokedError("unknown"), "OFFER_REVOKED", /does not know/, /paseo daemon pair/, false],
    [new OfferVersionError(2), "OFFER_VERSION", /different paseo version/, /Update paseo/, false],
    [new OfferError("bad base64"), "OFFER_INVALID", /damaged or incomplete/, /whole link/, false],
    [new HandshakeError("x"), "HANDSHAKE_FAILED", /wrong secret/, /paseo daemon pair/, false],
    [new DaemonOfflineError(), "DAEMON_OFFLINE", /offline/, /paseo daemon start/, true],
    [new RelayUnreachableError("ws://r"), "RELAY_UNREACHABLE", /Cannot reach the relay/, /network/, true],
    [new TimeoutError("request", 5), "TIMEOUT", /No answer/, /retrying/, true],
    [errorForClose(4009, "relay restarting"), "RELAY_RESTARTING", /relay is restarting/, /Reconnecting/, true],
    [new RpcError("agents.run", "BAD_PARAMS", "cwd does not exist"), "BAD_PARAMS", /refused/, /try again/, false],
    [new Error("boom"), "ERROR", /Unexpected/, /Reload/, false],
  ];
  for (const [err, code, title, next, transient] of cases) {
    it(`${code}: ${title}`, () => {
      const e = explain(err);
      expect(e.code).toBe(code);
      expect(e.title).toMatch(title);
      expect(e.next).toMatch(next);
      expect(e.transient).toBe(transient);
      expect(e.detail).toBe((err as Error).message);
    });
  }

  it("terminal errors say what to do in the view's terms", () => {
    expect(explain(new RpcError("terminal.input", "NOT_WRITER", "another client is the writer")).next).toMatch(
      /Take control/,
    );
    expect(explain(new RpcError("terminal.input", "INPUT_RATE_LIMITED", "slow down")).transient).toBe(true);
    expect(explain(new RpcError("terminal.input", "INPUT_TOO_LARGE", "64 KiB")).title).toMatch(/too large/);
    expect(explain(new RpcError("terminal.input", "INPUT_DISABLED", "off")).next).toMatch(/paseo daemon input on/);
    expect(explain(new RpcError("agents.run", "BAD_PARAMS", "x")).title).toBe("The daemon refused the request");
  });

  it("devices: revoked/unknown device, read-only and the kill switch say what to do (by code)", () => {
    const revoked = explain(new PaseoError("DEVICE_REVOKED", "device revoked"));
    expect(revoked.title).toMatch(/revoked/);
    expect(revoked.next).toMatch(/new link.*paseo daemon pair/);
    expect(revoked.transient).toBe(false);
    expect(explain(new PaseoError("DEVICE_UNKNOWN", "x")).title).toMatch(/does not know this device/);
    const full = explain(new ConnectionClosedError(CloseCode.DEVICE_LIMIT, "too many active devices"));
    expect(full.code).toBe("DEVICE_LIMIT");
    expect(full.next).toMatch(/paseo daemon devices revoke/);
    expect(explain(new RpcError("agents.run", "FORBIDDEN", "read-only")).next).toMatch(/devices set <id> --control/);
    expect(explain(new RpcError("agents.input", "INPUT_DISABLED", "off")).next).toMatch(/paseo daemon input on/);
  });

  it("link errors tuck their message (which restates title and next step) away; others show it", () => {
    expect(explain(new OfferRevokedError("revoked")).detailRepeats).toBe(true);
    expect(explain(new OfferExpiredError("2020-01-01T00:00:00.000Z")).detailRepeats).toBe(true);
    expect(explain(new RpcError("agents.run", "BAD_PARAMS", "cwd does not exist")).detailRepeats).toBe(false);
    expect(explain(new DaemonOfflineError()).detailRepeats).toBe(false);
  });

  it("every daemon close code maps to the same named error as in the CLI", () => {
    expect(explain(errorForClose(4102, "")).code).toBe("OFFER_EXPIRED");
    expect(explain(errorForClose(4103, "")).title).toMatch(/revoked/);
    expect(explain(errorForClose(4100, "")).code).toBe("HANDSHAKE_FAILED");
    expect(explain(errorForClose(4001, "")).code).toBe("DAEMON_OFFLINE");
    expect(explain(new ConnectionClosedError(4107, "idle")).transient).toBe(true);
  });
});

describe("format", () => {
  it("agent status reads like the CLI's", () => {
    const base = {
      id: "a",
      name: "n",
      argv: ["x"],
      cwd: "/",
      pid: null,
      exitCode: null,
      signal: null,
      startedAt: "",
      endedAt: null,
      nextSeq: 1,
      bytes: 0,
    };
    expect(agentStatus({ ...base, state: "exited", exitCode: 2 })).toBe("exited (2)");
    expect(agentStatus({ ...base, state: "killed", signal: "SIGTERM" })).toBe("killed (SIGTERM)");
    expect(agentStatus({ ...base, state: "running" })).toBe("running");
  });
});
