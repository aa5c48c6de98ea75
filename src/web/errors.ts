/**
 * Every failure the app can meet, as a title, the error's own message and the next step — using the same named
 * errors (classes and `code`s) as the CLI, so both tell a user the same thing. Messages never contain the offer.
 */
import {
  ConnectionClosedError,
  DaemonOfflineError,
  FrameTooLargeError,
  HandshakeError,
  LogGapError,
  OfferError,
  OfferExpiredError,
  OfferRevokedError,
  OfferVersionError,
  PaseoError,
  RelayUnreachableError,
  RpcError,
  TimeoutError,
} from "../index.js";

export interface Explained {
  /** Stable code (err.code), shown small for support and used by tests. */
  code: string;
  title: string;
  /** The error's own message (already redacted by the library). */
  detail: string;
  /** What to do now. */
  next: string;
  /** true when waiting fixes it (the client keeps reconnecting); false when the user must act. */
  transient: boolean;
  /**
   * true when the error's own message only restates the title and the next step (the link errors: the library's
   * message is written for a terminal, where it is all the user sees). The app then tucks it under "Details"
   * instead of saying the same thing three times.
   */
  detailRepeats: boolean;
}

const REPAIR = "On the daemon machine run `paseo daemon pair` and open the new link here.";

const TERMINAL_CODES = new Set(["TERMINAL_CLOSED", "TERMINAL_RECONNECTING"]);

const NEW_LINK =
  "Ask the daemon's owner for a new link (`paseo daemon pair` on the daemon machine) and open it here: it enrolls this browser again with a new key.";

/**
 * Devices (docs/protocol.md §4 4113–4116, §8.2 FORBIDDEN), matched by code so the app does not depend on which
 * class the client library uses for each. INPUT_DISABLED (the kill switch) is with the input errors below.
 */
function explainDevice(
  code: string,
  out: (title: string, next: string) => Explained,
  linkError: (title: string, next: string) => Explained,
): Explained | undefined {
  switch (code) {
    case "DEVICE_REVOKED":
      return linkError("This device was revoked on the daemon", NEW_LINK);
    case "DEVICE_UNKNOWN":
      return linkError(
        "The daemon does not know this device",
        `It was removed from the daemon, or the daemon's identity changed. ${NEW_LINK}`,
      );
    case "DEVICE_LIMIT":
      // 4116: refused before the ticket is spent, so the same link works once the owner has made room.
      return out(
        "The daemon has too many devices",
        "Nothing was spent: the daemon's owner can revoke devices it no longer needs (`paseo daemon devices revoke <id>`), then tap Enroll again.",
      );
    case "ENROLLMENT_REQUIRED":
      return linkError(
        "This link enrolls a device",
        "Open the link again and tap “Enroll this device” (an older paseo cannot use it: update it).",
      );
    case "FORBIDDEN":
      return out(
        "This device is read-only",
        "It may watch but not change anything. The daemon's owner can allow it with `paseo daemon devices set <id> --control`.",
      );
    case "STORAGE_UNAVAILABLE":
      return out(
        "This browser does not allow storing the device key",
        "It works in this tab only. Allow site storage (or leave private browsing) to remember this daemon.",
      );
    default:
      return undefined;
  }
}

/** The terminal lanes' and input bounds' errors (docs/protocol.md "Terminals"), in the terms the view uses. */
function explainTerminal(
  code: string,
  out: (title: string, next: string, transient?: boolean) => Explained,
): Explained | undefined {
  switch (code) {
    case "NOT_WRITER":
      return out(
        "Another client has control of this terminal",
        "Press “Take control” to type here (the other client will watch).",
      );
    case "READ_ONLY":
      return out("This view is read-only", "Open the agent again to get a view that can take control.");
    case "NOT_RUNNING":
      return out("The agent has ended", "Its last screen stays visible; start a new agent to continue.");
    case "INPUT_TOO_LARGE":
      return out("That input was too large for one message", "Paste less at a time.");
    case "INPUT_RATE_LIMITED":
      return out("Too much input too fast", "Wait a moment and type again.", true);
    case "INPUT_DISABLED":
      return out(
        "Input is turned off on this daemon",
        "You can watch. To type again, run `paseo daemon input on` on the daemon's machine.",
      );
    case "TERMINAL_RECONNECTING":
      return out("Reconnecting to the terminal", "Keys work again as soon as the connection is back.", true);
    case "TERMINAL_CLOSED":
      return out("This terminal view is closed", "Go back to the agents and open it again.");
    case "NOT_A_TERMINAL":
      return out(
        "This agent is not a terminal",
        "Go back to the agents and open it again: it opens as output with an input line.",
      );
    default:
      return undefined;
  }
}

export function explain(err: unknown): Explained {
  const detail = err instanceof Error ? err.message : String(err);
  const code = err instanceof PaseoError ? err.code : "ERROR";
  const out = (title: string, next: string, transient = false): Explained => ({
    code,
    title,
    detail,
    next,
    transient,
    detailRepeats: false,
  });
  const linkError = (title: string, next: string): Explained => ({ ...out(title, next), detailRepeats: true });

  if (err instanceof PaseoError) {
    const device = explainDevice(err.code, out, linkError);
    if (device) return device;
  }
  if (err instanceof OfferExpiredError) return linkError("This pairing link has expired", REPAIR);
  if (err instanceof OfferRevokedError) {
    const title =
      err.reason === "used"
        ? "This single-use pairing link was already used"
        : err.reason === "revoked"
          ? "This pairing link was revoked"
          : "The daemon does not know this pairing link";
    return linkError(title, REPAIR);
  }
  if (err instanceof OfferVersionError) {
    return linkError(
      "This link comes from a different paseo version",
      `Update paseo on the daemon machine, then ${REPAIR[0]!.toLowerCase()}${REPAIR.slice(1)}`,
    );
  }
  if (err instanceof OfferError) {
    return linkError(
      "This pairing link is damaged or incomplete",
      "Copy the whole link printed by `paseo daemon pair` — everything after the # included — and open it again.",
    );
  }
  if (err instanceof HandshakeError) {
    return linkError(
      "The daemon did not accept this link (wrong secret or key)",
      `The link may be from an older pairing or altered in transit. ${REPAIR} Compare the fingerprint with \`paseo daemon pair\`.`,
    );
  }
  if (err instanceof DaemonOfflineError) {
    return out(
      "The daemon is offline",
      "Start it on that machine with `paseo daemon start` (or check its network). This page reconnects by itself when it is back.",
      true,
    );
  }
  if (err instanceof RelayUnreachableError) {
    return out(
      "Cannot reach the relay",
      "Check this device's network connection and that the relay is running. This page keeps retrying.",
      true,
    );
  }
  if (err instanceof TimeoutError) {
    return out(
      "No answer in time",
      "The network or the daemon is slow or unreachable. This page keeps retrying.",
      true,
    );
  }
  if (err instanceof FrameTooLargeError)
    return out("A message was too large for the relay", "Try a smaller input; the relay limits message sizes.");
  if (err instanceof LogGapError)
    return out("The output stream skipped data", "Close the agent's output and open it again.");
  if (err instanceof ConnectionClosedError) {
    if (err.code === "RELAY_RESTARTING")
      return out("The relay is restarting", "Reconnecting automatically — nothing to do.", true);
    return out(
      `The connection was closed (${err.code})`,
      "Reconnecting automatically; reload the page if this persists.",
      true,
    );
  }
  if (err instanceof PaseoError && err.code === "RELAY_NOT_ALLOWED") {
    return out(
      "This page may not connect to this link's relay",
      "Open the link with `paseo open <link|file>` on your computer, or through the app URL its daemon prints — never through a page served by a relay you do not run.",
    );
  }
  if (err instanceof RpcError || (err instanceof PaseoError && TERMINAL_CODES.has(err.code))) {
    const terminal = explainTerminal(err.code, out);
    if (terminal) return terminal;
  }
  if (err instanceof RpcError) return out("The daemon refused the request", "Check the values and try again.");
  if (err instanceof PaseoError && err.code === "CLIENT_CLOSED")
    return out("Disconnected", "Reload the page to connect again.");
  if (err instanceof PaseoError) return out(`Error: ${err.code}`, "Try again; reload the page if this persists.");
  return out("Unexpected error", "Reload the page; if it keeps happening, report it with the steps that led here.");
}
