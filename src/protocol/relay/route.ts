/**
 * The relay's request target (§5.1): which leg and which serverId, or the close code that refuses it. The relay
 * accepts the upgrade on any path and refuses afterwards, so the peer sees a named code rather than an HTTP status.
 */
import { CloseCode } from "../close-codes.js";
import { MUX_VERSION_TAGGED } from "../relay-mux.js";
import { RELAY_PATH } from "../relay-url.js";
import { SERVER_ID_RE } from "../server-id.js";
import type { Role } from "./metrics.js";

export type Route =
  | { ok: true; role: Role; serverId: string; taggedOpen: boolean }
  | { ok: false; code: number; reason: string };

/** Parse a request target; undefined for a malformed one (which must never throw out of a request handler). */
export function parseUrl(rawUrl: string | undefined): URL | undefined {
  try {
    return new URL(rawUrl ?? "/", "http://relay.invalid");
  } catch {
    return undefined;
  }
}

export function parseRoute(rawUrl: string | undefined): Route {
  const url = parseUrl(rawUrl);
  if (!url) return { ok: false, code: CloseCode.BAD_REQUEST, reason: "malformed URL" };
  if (url.pathname !== RELAY_PATH) {
    return /^\/v\d+\/ws\/?$/.test(url.pathname)
      ? { ok: false, code: CloseCode.PROTOCOL_MISMATCH, reason: `this relay speaks ${RELAY_PATH}` }
      : { ok: false, code: CloseCode.BAD_REQUEST, reason: `unknown path; use ${RELAY_PATH}` };
  }
  const roles = url.searchParams.getAll("role");
  const ids = url.searchParams.getAll("serverId");
  if (roles.length !== 1 || (roles[0] !== "server" && roles[0] !== "client")) {
    return { ok: false, code: CloseCode.BAD_REQUEST, reason: "role must be server or client" };
  }
  if (ids.length !== 1 || !SERVER_ID_RE.test(ids[0]!)) {
    return { ok: false, code: CloseCode.BAD_REQUEST, reason: "serverId must be 26 base32 characters" };
  }
  // A daemon that sends mux=2 understands OPENs tagged with the client's source (§5.3); nothing else changes.
  const taggedOpen = roles[0] === "server" && url.searchParams.get("mux") === String(MUX_VERSION_TAGGED);
  return { ok: true, role: roles[0], serverId: ids[0]!, taggedOpen };
}
