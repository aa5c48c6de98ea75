/**
 * RelayLink's connection state machine, kept pure (no sockets, no timers) so every transition can be unit-tested
 * directly — as `ws`'s Receiver keeps one `_state` and a switch. RelayLink (relay-link.ts) owns the socket and the
 * timers; it feeds each thing that happens here as an event and performs the returned effect.
 *
 * One socket's life: connecting → authenticating (CHALLENGE answered once, READY accepted only after that AUTH,
 * §5.2) → connected (client messages only now; pings counted) → backoff → connecting …, or rejected (a close after
 * which retrying cannot help) or stopped (for good). Anything out of order is a RelayOrderError: the link tears the
 * socket down and reconnects, so a forged READY cannot make the daemon report "connected" on a path where it never
 * registered.
 */
import { CloseCode, closeCodeName } from "../protocol/close-codes.js";

/** The names `paseo daemon status` reports (RelayLinkStatus.state). */
export type RelayLinkState = RelayLinkPhase["name"];

export type RelayLinkPhase =
  /** A socket is being opened (or, before start(), about to be). */
  | { name: "connecting" }
  /** The socket is open; registration (§5.2) is at `step`. */
  | { name: "authenticating"; step: "challenge" | "auth-sent" }
  /** Registered; `missedPongs` pings went unanswered in a row. */
  | { name: "connected"; missedPongs: number }
  /** Lost the socket; a dial is scheduled after the backoff's delay. */
  | { name: "backoff" }
  /** The relay refused us in a way retrying cannot fix; `why` is for the operator. */
  | { name: "rejected"; code: number; why: string }
  /** stop() was called: nothing more happens. */
  | { name: "stopped" };

export type RelayLinkEvent =
  | { type: "dial" }
  | { type: "open" }
  | { type: "challenge" }
  | { type: "ready" }
  /** OPEN / DATA / CLOSE / PAUSE / RESUME for a client (`kind` is the mux type, for the error message). */
  | { type: "client-message"; kind: string }
  /** The ping interval elapsed. */
  | { type: "ping-due" }
  | { type: "pong" }
  /** The current socket closed with `code`. */
  | { type: "closed"; code: number }
  | { type: "stop" };

/** What RelayLink must do after a transition (besides reporting the new state). */
export type RelayLinkEffect =
  | "none"
  /** Answer the CHALLENGE with AUTH. */
  | "send-auth"
  /** Registration done: clear the deadline, start pinging, reset the backoff's stable clock. */
  | "registered"
  | "send-ping"
  /** Two pings in a row went unanswered: the path is dead; terminate the socket. */
  | "keepalive-timeout"
  /** Schedule a dial after the backoff delay. */
  | "retry-later"
  /** Log why and stop retrying. */
  | "give-up";

export interface RelayLinkTransition {
  next: RelayLinkPhase;
  effect: RelayLinkEffect;
}

/** A relay message out of registration order (§5.2): a protocol violation, answered by reconnecting. */
export class RelayOrderError extends Error {
  readonly code = "RELAY_ORDER";
  constructor(message: string) {
    super(message);
    this.name = "RelayOrderError";
  }
}

/** Close codes after which retrying cannot help. */
export const FATAL_CLOSES: ReadonlySet<number> = new Set<number>([
  CloseCode.AUTH_FAILED,
  CloseCode.PROTOCOL_MISMATCH,
  CloseCode.REPLACED,
  CloseCode.BAD_REQUEST,
]);

/** Pings that may go unanswered in a row before the path counts as dead (so: 2 intervals of silence). */
export const MAX_MISSED_PONGS = 2;

export const INITIAL_PHASE: RelayLinkPhase = { name: "connecting" };

/** Whether the link is done for good (no dial may follow). */
export function isFinal(phase: RelayLinkPhase): boolean {
  return phase.name === "stopped" || phase.name === "rejected";
}

/** The one place the next state is decided. Throws RelayOrderError for a relay message out of order. */
export function transition(phase: RelayLinkPhase, event: RelayLinkEvent): RelayLinkTransition {
  const stay = { next: phase, effect: "none" } as const;
  switch (event.type) {
    case "stop":
      return { next: { name: "stopped" }, effect: "none" };
    case "dial":
      return isFinal(phase) ? stay : { next: { name: "connecting" }, effect: "none" };
    case "open":
      return phase.name === "connecting"
        ? { next: { name: "authenticating", step: "challenge" }, effect: "none" }
        : stay;
    case "challenge":
      if (phase.name !== "authenticating" || phase.step !== "challenge")
        throw new RelayOrderError("a second CHALLENGE on one connection");
      return { next: { name: "authenticating", step: "auth-sent" }, effect: "send-auth" };
    case "ready":
      if (phase.name !== "authenticating" || phase.step !== "auth-sent")
        throw new RelayOrderError("READY without a preceding CHALLENGE/AUTH");
      return { next: { name: "connected", missedPongs: 0 }, effect: "registered" };
    case "client-message":
      if (phase.name !== "connected") throw new RelayOrderError(`${event.kind.toUpperCase()} before READY`);
      return stay;
    case "ping-due":
      if (phase.name !== "connected") return stay;
      if (phase.missedPongs >= MAX_MISSED_PONGS) return { next: phase, effect: "keepalive-timeout" };
      return { next: { name: "connected", missedPongs: phase.missedPongs + 1 }, effect: "send-ping" };
    case "pong":
      return phase.name === "connected" ? { next: { name: "connected", missedPongs: 0 }, effect: "none" } : stay;
    case "closed":
      if (phase.name === "stopped") return stay;
      if (FATAL_CLOSES.has(event.code))
        return { next: { name: "rejected", code: event.code, why: rejectionReason(event.code) }, effect: "give-up" };
      return { next: { name: "backoff" }, effect: "retry-later" };
  }
}

function rejectionReason(code: number): string {
  if (code === CloseCode.REPLACED) return "another daemon with this identity connected to the relay and took over";
  if (code === CloseCode.AUTH_FAILED) return "the relay rejected this daemon's key proof";
  return `the relay refused the connection (${closeCodeName(code)})`;
}
