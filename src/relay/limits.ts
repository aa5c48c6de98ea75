/**
 * Node-side address accounting for the per-IP limits; the limiter itself is runtime-neutral
 * (src/protocol/relay/limits.ts).
 */
import type { IncomingMessage } from "node:http";

export { IpLimiter, limiterKey, type Admission } from "../protocol/relay/limits.js";

/**
 * The address to account a request to. X-Forwarded-For is trusted only when the operator says a proxy of theirs
 * is in front; then its last entry (the address that proxy saw) is used, since earlier entries are client-supplied.
 */
export function clientAddress(req: IncomingMessage, trustForwardedFor: boolean): string {
  if (trustForwardedFor) {
    const header = req.headers["x-forwarded-for"];
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    const last = value?.split(",").pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}
