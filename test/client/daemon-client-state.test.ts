/** DaemonClient's state machine (src/client/daemon-client-state.ts), transition by transition — no sockets. */
import { describe, expect, it } from "vitest";
import {
  attemptInProgress,
  currentSession,
  INITIAL_CLIENT_PHASE,
  mayRideHandshake,
  nextClientPhase,
  type ClientEvent,
  type ClientPhase,
} from "../../src/client/daemon-client-state.js";

type S = { id: string };
type A = { attempt: number };
type W = { wait: number };
type P = ClientPhase<S, A, W>;
const step = (phase: P, event: ClientEvent<S, A, W>): P => nextClientPhase(phase, event);

const s1: S = { id: "s1" };
const s2: S = { id: "s2" };
const a1: A = { attempt: 1 };
const a2: A = { attempt: 2 };
const w1: W = { wait: 1 };
const idle: P = INITIAL_CLIENT_PHASE;
const connected = step(step(idle, { type: "dial", attempt: a1 }), { type: "established", session: s1 });

describe("DaemonClient state machine", () => {
  it("first connection: idle → connecting (with its attempt) → connected (with its session)", () => {
    const connecting = step(idle, { type: "dial", attempt: a1 });
    expect(connecting).toEqual({ name: "connecting", attempt: a1 });
    expect(attemptInProgress(connecting)).toBe(a1);
    expect(currentSession(connecting)).toBeUndefined();
    expect(connected).toEqual({ name: "connected", session: s1 });
    expect(currentSession(connected)).toBe(s1);
    expect(attemptInProgress(connected)).toBeUndefined();
  });

  it("a failed attempt with reconnect on waits (reconnecting, same attempt), then dials again; giving up → idle", () => {
    const waiting = step(step(idle, { type: "dial", attempt: a1 }), { type: "retry-wait", wait: w1 });
    expect(waiting).toEqual({ name: "reconnecting", attempt: a1, wait: w1 });
    const redial = step(waiting, { type: "retry-dial" });
    expect(redial).toEqual({ name: "reconnecting", attempt: a1, wait: undefined });
    expect(step(redial, { type: "established", session: s2 })).toEqual({ name: "connected", session: s2 });
    expect(step(redial, { type: "gave-up" })).toEqual({ name: "idle" });
    expect(step(step(idle, { type: "dial", attempt: a1 }), { type: "gave-up" })).toEqual({ name: "idle" });
    // Outside an attempt these events change nothing.
    expect(step(connected, { type: "retry-wait", wait: w1 })).toBe(connected);
    expect(step(connected, { type: "retry-dial" })).toBe(connected);
    expect(step(connected, { type: "gave-up" })).toBe(connected);
  });

  it("losing the session: reconnecting with nothing in progress when retrying, idle otherwise; a stale session is ignored", () => {
    const lost = step(connected, { type: "lost", session: s1, retry: true });
    expect(lost).toEqual({ name: "reconnecting", attempt: undefined, wait: undefined });
    expect(mayRideHandshake(lost)).toBe(true);
    expect(step(lost, { type: "dial", attempt: a2 })).toEqual({ name: "reconnecting", attempt: a2, wait: undefined });
    expect(step(connected, { type: "lost", session: s1, retry: false })).toEqual({ name: "idle" });
    expect(step(connected, { type: "lost", session: s2, retry: true })).toBe(connected);
    expect(step(idle, { type: "lost", session: s1, retry: true })).toBe(idle);
    // Dialling from a session that closed but has not reported it is a reconnection, not a first connection.
    expect(step(connected, { type: "dial", attempt: a2 })).toMatchObject({ name: "reconnecting", attempt: a2 });
  });

  it("only a call that would start a connection may ride in the handshake", () => {
    expect(mayRideHandshake(idle)).toBe(true);
    expect(mayRideHandshake(step(idle, { type: "dial", attempt: a1 }))).toBe(false);
    expect(mayRideHandshake(connected)).toBe(false);
    expect(mayRideHandshake({ name: "reconnecting", attempt: a1, wait: w1 })).toBe(false);
  });

  it("closed is final: reachable from every state, and no event leaves it", () => {
    const all: P[] = [
      idle,
      step(idle, { type: "dial", attempt: a1 }),
      connected,
      { name: "reconnecting", attempt: a1, wait: w1 },
    ];
    for (const phase of all) expect(step(phase, { type: "close" })).toEqual({ name: "closed" });
    const closed: P = { name: "closed" };
    const events: ClientEvent<S, A, W>[] = [
      { type: "dial", attempt: a1 },
      { type: "established", session: s1 },
      { type: "retry-wait", wait: w1 },
      { type: "retry-dial" },
      { type: "gave-up" },
      { type: "lost", session: s1, retry: true },
      { type: "close" },
    ];
    for (const event of events) expect(step(closed, event)).toBe(closed);
    expect(attemptInProgress(closed)).toBeUndefined();
    expect(currentSession(closed)).toBeUndefined();
  });
});
