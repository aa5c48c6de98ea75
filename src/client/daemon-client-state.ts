/**
 * DaemonClient's connection state machine, kept pure (no sockets, no timers) so every transition can be unit-tested
 * directly — as `ws`'s Receiver keeps one `_state` and a switch. The live session, the connection attempt in
 * progress and the pending reconnect wait exist only in the states where they mean something, so no combination of
 * fields can contradict another. DaemonClient (daemon-client.ts) feeds events and emits the state's name.
 *
 * Generic over the session (S), the attempt (A, a promise of a session) and the backoff wait (W) so this file needs
 * none of them.
 */

/** The names DaemonClient reports (`client.state`, the "state" event). */
export type ConnectionState = ClientPhase<unknown, unknown, unknown>["name"];

export type ClientPhase<S, A, W> =
  /** No session and nothing in progress (not yet connected, or gave up / lost it with reconnect off). */
  | { name: "idle" }
  /** The first connection attempt since idle is in progress. */
  | { name: "connecting"; attempt: A }
  | { name: "connected"; session: S }
  /**
   * A session was lost or an attempt failed and we try again: `attempt` is the attempt in progress (undefined in
   * the instant between the loss and the next dial); `wait` is the backoff delay being waited out, if any.
   */
  | { name: "reconnecting"; attempt: A | undefined; wait: W | undefined }
  /** close() was called: final. */
  | { name: "closed" };

export type ClientEvent<S, A, W> =
  /** A connection attempt was started (only when none is in progress: see attemptInProgress). */
  | { type: "dial"; attempt: A }
  /** The attempt produced a session. */
  | { type: "established"; session: S }
  /** The attempt failed and will try again after `wait`. */
  | { type: "retry-wait"; wait: W }
  /** The wait is over; the same attempt dials again. */
  | { type: "retry-dial" }
  /** The attempt failed for good (reconnect off, a believed refusal, or closed meanwhile). */
  | { type: "gave-up" }
  /** `session` closed without close(); `retry`: reconnect is on and the reason is not permanent. */
  | { type: "lost"; session: S; retry: boolean }
  | { type: "close" };

export const INITIAL_CLIENT_PHASE: ClientPhase<never, never, never> = { name: "idle" };

/** The one place the next state is decided. "closed" is final: every event leaves it as it is. */
export function nextClientPhase<S, A, W>(
  phase: ClientPhase<S, A, W>,
  event: ClientEvent<S, A, W>,
): ClientPhase<S, A, W> {
  if (phase.name === "closed") return phase;
  switch (event.type) {
    case "close":
      return { name: "closed" };
    case "dial":
      // From idle it is a first connection; after a session existed (even one that closed a moment ago and has not
      // reported it yet) it is a reconnection.
      if (phase.name === "idle" || phase.name === "connecting") return { name: "connecting", attempt: event.attempt };
      return { name: "reconnecting", attempt: event.attempt, wait: undefined };
    case "established":
      return { name: "connected", session: event.session };
    case "retry-wait":
      if (phase.name !== "connecting" && phase.name !== "reconnecting") return phase;
      return { name: "reconnecting", attempt: phase.attempt, wait: event.wait };
    case "retry-dial":
      return phase.name === "reconnecting" ? { name: "reconnecting", attempt: phase.attempt, wait: undefined } : phase;
    case "gave-up":
      return phase.name === "connecting" || phase.name === "reconnecting" ? { name: "idle" } : phase;
    case "lost":
      // A stale session (already replaced, or never ours) changes nothing.
      if (phase.name !== "connected" || phase.session !== event.session) return phase;
      return event.retry ? { name: "reconnecting", attempt: undefined, wait: undefined } : { name: "idle" };
  }
}

/** The attempt a caller should join instead of starting another, if one is in progress. */
export function attemptInProgress<S, A, W>(phase: ClientPhase<S, A, W>): A | undefined {
  return phase.name === "connecting" || phase.name === "reconnecting" ? phase.attempt : undefined;
}

/** The current session, if connected (it may have closed a moment ago without having reported it yet). */
export function currentSession<S, A, W>(phase: ClientPhase<S, A, W>): S | undefined {
  return phase.name === "connected" ? phase.session : undefined;
}

/**
 * Whether a read-only request may ride in the handshake's early data: only when it would start a connection (no
 * session and no attempt to join). Only the call that starts a connection may attach an early request.
 */
export function mayRideHandshake<S, A, W>(phase: ClientPhase<S, A, W>): boolean {
  return phase.name === "idle" || (phase.name === "reconnecting" && phase.attempt === undefined);
}
