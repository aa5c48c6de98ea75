/**
 * The page's CSP lets it connect only to the relay it was served for (docs/protocol.md §1): a relay serving its own
 * app allows 'self', `paseo open` allows exactly the offer's relay. A link for another relay opened here is blocked
 * by the browser before any byte leaves — the right outcome, but on its own it looks like a silent timeout. This
 * turns the browser's CSP report into a named error that says where to open the link instead.
 */
import { PaseoError, type RelayEndpoint } from "../index.js";

export class RelayNotAllowedError extends PaseoError {
  constructor(relay: string) {
    super(
      "RELAY_NOT_ALLOWED",
      `this page may not connect to the link's relay ${relay} (its Content-Security-Policy allows only the relay it was served for)`,
    );
  }
}

/** Call `onBlocked` when the browser blocks a connection to this relay (an offer's or a device's). Returns the unsubscribe. */
export function watchRelayBlocked(endpoint: RelayEndpoint, onBlocked: (err: RelayNotAllowedError) => void): () => void {
  const relay = `${endpoint.tls ? "wss" : "ws"}://${endpoint.endpoint}`;
  const onViolation = (e: SecurityPolicyViolationEvent): void => {
    if (e.effectiveDirective !== "connect-src") return;
    const blocked = e.blockedURI.toLowerCase();
    if (blocked.startsWith(relay.toLowerCase()) || blocked.startsWith(relay.replace(/^ws/, "http").toLowerCase())) {
      onBlocked(new RelayNotAllowedError(relay));
    }
  };
  document.addEventListener("securitypolicyviolation", onViolation);
  return () => document.removeEventListener("securitypolicyviolation", onViolation);
}
