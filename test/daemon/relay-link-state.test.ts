/** RelayLink's state machine (src/daemon/relay-link-state.ts), transition by transition — no sockets. */
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../src/protocol/close-codes.js";
import {
  FATAL_CLOSES,
  INITIAL_PHASE,
  isFinal,
  MAX_MISSED_PONGS,
  RelayOrderError,
  transition,
  type RelayLinkEvent,
  type RelayLinkPhase,
} from "../../src/daemon/relay-link-state.js";

function run(events: RelayLinkEvent[], from: RelayLinkPhase = INITIAL_PHASE): RelayLinkPhase {
  return events.reduce((phase, event) => transition(phase, event).next, from);
}
const registered = run([{ type: "dial" }, { type: "open" }, { type: "challenge" }, { type: "ready" }]);

describe("relay link state machine", () => {
  it("registers in order: connecting → authenticating (challenge, auth-sent) → connected", () => {
    let phase = transition(INITIAL_PHASE, { type: "dial" }).next;
    expect(phase).toEqual({ name: "connecting" });
    phase = transition(phase, { type: "open" }).next;
    expect(phase).toEqual({ name: "authenticating", step: "challenge" });
    const auth = transition(phase, { type: "challenge" });
    expect(auth).toEqual({ next: { name: "authenticating", step: "auth-sent" }, effect: "send-auth" });
    const ready = transition(auth.next, { type: "ready" });
    expect(ready).toEqual({ next: { name: "connected", missedPongs: 0 }, effect: "registered" });
  });

  it("refuses a second CHALLENGE, a READY without AUTH, and client messages before READY", () => {
    const authSent = run([{ type: "open" }, { type: "challenge" }]);
    expect(() => transition(authSent, { type: "challenge" })).toThrow(RelayOrderError);
    expect(() => transition(registered, { type: "challenge" })).toThrow(/second CHALLENGE/);
    expect(() => transition(run([{ type: "open" }]), { type: "ready" })).toThrow(/READY without/);
    expect(() => transition(INITIAL_PHASE, { type: "ready" })).toThrow(RelayOrderError);
    expect(() => transition(registered, { type: "ready" })).toThrow(RelayOrderError);
    for (const kind of ["open", "data", "close", "pause", "resume"]) {
      expect(() => transition(authSent, { type: "client-message", kind })).toThrow(
        `${kind.toUpperCase()} before READY`,
      );
      expect(transition(registered, { type: "client-message", kind })).toEqual({ next: registered, effect: "none" });
    }
  });

  it("counts unanswered pings and declares the path dead after MAX_MISSED_PONGS; a pong resets the count", () => {
    let phase = registered;
    for (let i = 1; i <= MAX_MISSED_PONGS; i++) {
      const t = transition(phase, { type: "ping-due" });
      expect(t).toEqual({ next: { name: "connected", missedPongs: i }, effect: "send-ping" });
      phase = t.next;
    }
    expect(transition(phase, { type: "ping-due" }).effect).toBe("keepalive-timeout");
    phase = transition(phase, { type: "pong" }).next;
    expect(phase).toEqual({ name: "connected", missedPongs: 0 });
    expect(transition(phase, { type: "ping-due" }).effect).toBe("send-ping");
    // Pings and pongs outside "connected" change nothing.
    const authenticating = run([{ type: "open" }]);
    expect(transition(authenticating, { type: "ping-due" })).toEqual({ next: authenticating, effect: "none" });
    expect(transition(authenticating, { type: "pong" })).toEqual({ next: authenticating, effect: "none" });
  });

  it("a close retries (backoff) unless its code is fatal (rejected); both from any live state", () => {
    for (const from of [INITIAL_PHASE, run([{ type: "open" }]), registered]) {
      expect(transition(from, { type: "closed", code: 1006 })).toEqual({
        next: { name: "backoff" },
        effect: "retry-later",
      });
      expect(transition(from, { type: "closed", code: CloseCode.PROTOCOL_ERROR }).effect).toBe("retry-later");
      for (const code of FATAL_CLOSES) {
        const t = transition(from, { type: "closed", code });
        expect(t.effect).toBe("give-up");
        expect(t.next).toMatchObject({ name: "rejected", code });
      }
    }
    expect(transition(registered, { type: "closed", code: CloseCode.REPLACED }).next).toMatchObject({
      why: /took over/,
    });
    expect(transition(registered, { type: "closed", code: CloseCode.AUTH_FAILED }).next).toMatchObject({
      why: /key proof/,
    });
    expect(transition({ name: "backoff" }, { type: "dial" }).next).toEqual({ name: "connecting" });
  });

  it("rejected and stopped are final: no dial, and a late close or open changes nothing", () => {
    const rejected = transition(registered, { type: "closed", code: CloseCode.AUTH_FAILED }).next;
    const stopped = transition(registered, { type: "stop" }).next;
    expect(stopped).toEqual({ name: "stopped" });
    for (const phase of [rejected, stopped]) {
      expect(isFinal(phase)).toBe(true);
      expect(transition(phase, { type: "dial" }).next).toBe(phase);
      expect(transition(phase, { type: "open" }).next).toBe(phase);
    }
    expect(transition(stopped, { type: "closed", code: 1006 })).toEqual({ next: stopped, effect: "none" });
    expect(transition(stopped, { type: "closed", code: CloseCode.AUTH_FAILED })).toEqual({
      next: stopped,
      effect: "none",
    });
    expect(transition(rejected, { type: "stop" }).next).toEqual({ name: "stopped" });
    expect(isFinal(registered) || isFinal(INITIAL_PHASE) || isFinal({ name: "backoff" })).toBe(false);
  });
});
