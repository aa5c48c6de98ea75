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
}

const REPAIR = "On the daemon machine run `paseo daemon pair` and open the new link here.";

export function explain(err: unknown): Explained {
  const detail = err instanceof Error ? err.message : String(err);
  const code = err instanceof PaseoError ? err.code : "ERROR";
  const out = (title: string, next: string, transient = false): Explained => ({ code, title, detail, next, transient });

  if (err instanceof OfferExpiredError) return out("This pairing link has expired", REPAIR);
  if (err instanceof OfferRevokedError) {
    const title =
      err.reason === "used"
        ? "This single-use pairing link was already used"
        : err.reason === "revoked"
          ? "This pairing link was revoked"
          : "The daemon does not know this pairing link";
    return out(title, REPAIR);
  }
  if (err instanceof OfferVersionError) {
    return out("This link comes from a different paseo version", `Update paseo on the daemon machine, then ${REPAIR[0]!.toLowerCase()}${REPAIR.slice(1)}`);
  }
  if (err instanceof OfferError) {
    return out(
      "This pairing link is damaged or incomplete",
      "Copy the whole link printed by `paseo daemon pair` — everything after the # included — and open it again.",
    );
  }
  if (err instanceof HandshakeError) {
    return out(
      "The daemon did not accept this link (wrong secret or key)",
      "The link may be from an older pairing or altered in transit. " + REPAIR + " Compare the fingerprint with `paseo daemon pair`.",
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
    return out("Cannot reach the relay", "Check this device's network connection and that the relay is running. This page keeps retrying.", true);
  }
  if (err instanceof TimeoutError) {
    return out("No answer in time", "The network or the daemon is slow or unreachable. This page keeps retrying.", true);
  }
  if (err instanceof FrameTooLargeError) return out("A message was too large for the relay", "Try a smaller input; the relay limits message sizes.");
  if (err instanceof LogGapError) return out("The output stream skipped data", "Close the agent's output and open it again.");
  if (err instanceof ConnectionClosedError) {
    if (err.code === "RELAY_RESTARTING") return out("The relay is restarting", "Reconnecting automatically — nothing to do.", true);
    return out(`The connection was closed (${err.code})`, "Reconnecting automatically; reload the page if this persists.", true);
  }
  if (err instanceof PaseoError && err.code === "RELAY_NOT_ALLOWED") {
    return out(
      "This page may not connect to this link's relay",
      "Open the link with `paseo open <link|file>` on your computer, or through the app URL its daemon prints — never through a page served by a relay you do not run.",
    );
  }
  if (err instanceof RpcError) return out("The daemon refused the request", "Check the values and try again.");
  if (err instanceof PaseoError && err.code === "CLIENT_CLOSED") return out("Disconnected", "Reload the page to connect again.");
  if (err instanceof PaseoError) return out(`Error: ${err.code}`, "Try again; reload the page if this persists.");
  return out("Unexpected error", "Reload the page; if it keeps happening, report it with the steps that led here.");
}
