/**
 * What a relay answers over plain HTTP, shared by both runtimes: the security headers, the text page at `/` (when it
 * serves no app), and the /health body. The static app itself is Node-only (src/relay/static.ts).
 */
import { PASEO_VERSION } from "../../version.js";
import type { RelayStats } from "./metrics.js";

/** The CSP with `connect-src` limited to `connectSrc` (CSP source expressions, e.g. "'self'" or "ws://h:1"). */
export function appContentSecurityPolicy(connectSrc: string): string {
  return (
    `default-src 'self'; connect-src ${connectSrc}; img-src 'self' data:; style-src 'self'; script-src 'self'; ` +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
  );
}

/** The relay's own CSP: the app it serves may only talk to this same relay. */
export const CONTENT_SECURITY_POLICY = appContentSecurityPolicy("'self'");

/** Headers for a page served with the given CSP. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = securityHeaders(CONTENT_SECURITY_POLICY);

export const ROOT_PAGE =
  "paseo relay\n\nThis relay forwards end-to-end encrypted traffic between paseo daemons and clients.\n" +
  "It sees routing ids and ciphertext only, and it does not serve the browser app: open a pairing link with\n" +
  "`paseo open <link|file>` on your own machine, or through the app URL its daemon was given (--app-url).\n" +
  "See /health for status.\n";

export const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The /health body: status, uptime (s), daemons, clients, version. */
export function healthBody(stats: RelayStats, stopping: boolean): string {
  const body = {
    status: stopping ? "stopping" : "ok",
    uptime: Math.floor(stats.uptimeMs / 1000),
    daemons: stats.daemons,
    clients: stats.clients,
    version: PASEO_VERSION,
  };
  return `${JSON.stringify(body)}\n`;
}
