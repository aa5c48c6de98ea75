/**
 * The loopback app server of `paseo open`: serves the packaged app (dist/web) from 127.0.0.1 on an ephemeral port,
 * so the page that reads the pairing offer comes from the user's own machine, never from a relay.
 *
 * Handing the offer to the browser without putting it in anything that lasts or that others can read:
 *   - the URL we print and give the browser holds a one-time CLAIM TOKEN, not the offer: a browser's argv is
 *     readable by every local user (/proc/<pid>/cmdline) for the browser's whole life, and URLs land in history;
 *   - the first `GET /?claim=<token>` is answered `303 See Other` to `/#offer=<base64url>` (no-store): the offer
 *     travels once, over loopback TCP, in a Location header nothing logs, and then only in the URL FRAGMENT, which
 *     the browser never sends to any server; the app removes it from the address bar and history as it reads it;
 *   - the token then is spent (and it expires after CLAIM_TTL_MS anyway): a later request gets 410, and a local user
 *     who raced the browser is visible — the user's browser shows "already used" and the CLI says the offer was
 *     handed out, so the user revokes it;
 *   - requests whose Host is not exactly 127.0.0.1:<port> are refused (421), so a web page cannot reach this
 *     server through DNS rebinding;
 *   - the CSP's connect-src is exactly the offer's relay (ws:// or wss://): the page can talk to nothing else.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { toBase64Url, utf8 } from "../protocol/encoding.js";
import { encodeOffer, type Offer } from "../protocol/offer.js";
import { type AppFiles, appContentSecurityPolicy, securityHeaders, serveApp } from "../relay/static.js";

/** How long the printed URL can be claimed. Long enough to paste it by hand (--no-browser), short enough to expire. */
export const CLAIM_TTL_MS = 5 * 60_000;

/** The exact WebSocket origin of the offer's relay, as a CSP source expression. */
export function relayConnectSource(offer: Pick<Offer, "relay">): string {
  return `${offer.relay.tls ? "wss" : "ws"}://${offer.relay.endpoint}`;
}

export type ClaimState = "waiting" | "claimed" | "expired";

export interface OpenServer {
  /** The URL to open: http://127.0.0.1:<port>/?claim=<token> (single use; holds no secret). */
  readonly url: string;
  readonly port: number;
  readonly csp: string;
  readonly state: ClaimState;
  /** Resolves when the offer was handed out (true) or the token expired unclaimed (false). */
  readonly claimed: Promise<boolean>;
  close(): Promise<void>;
}

export async function startOpenServer(
  app: AppFiles,
  offer: Offer,
  options: { claimTtlMs?: number } = {},
): Promise<OpenServer> {
  const csp = appContentSecurityPolicy(relayConnectSource(offer));
  const token = toBase64Url(randomBytes(32));
  const tokenBytes = utf8(token);
  const fragment = `/#offer=${encodeOffer(offer)}`;
  let state: ClaimState = "waiting";
  let settle: (ok: boolean) => void = () => {};
  const claimed = new Promise<boolean>((resolve) => (settle = resolve));
  let port = 0;

  const sendText = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, {
      ...securityHeaders(csp),
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
    });
    res.end(text);
  };

  const tryClaim = (given: string, res: ServerResponse): void => {
    const givenBytes = utf8(given);
    const match = givenBytes.length === tokenBytes.length && timingSafeEqual(givenBytes, tokenBytes);
    switch (state) {
      case "waiting":
        if (!match) return sendText(res, 403, "paseo open: this is not the URL `paseo open` printed\n");
        state = "claimed";
        clearTimeout(expiry);
        res.writeHead(303, {
          ...securityHeaders(csp),
          Location: fragment,
          "Cache-Control": "no-store",
          "Content-Length": 0,
        });
        res.end();
        settle(true);
        return;
      case "claimed":
        return sendText(
          res,
          410,
          "paseo open: this URL was already used (single use). If it was not you, revoke the offer: paseo daemon offers revoke <id>\n",
        );
      case "expired":
        return sendText(res, 410, "paseo open: this URL expired; run `paseo open` again\n");
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.headers.host !== `127.0.0.1:${port}`)
      return sendText(res, 421, "paseo open: wrong Host (open the URL exactly as printed)\n");
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "method not allowed\n");
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://127.0.0.1");
    } catch {
      return sendText(res, 400, "malformed URL\n");
    }
    const claim = url.searchParams.get("claim");
    if (url.pathname === "/" && claim !== null) {
      // Only a GET claims: a HEAD (link previewers, prefetchers) must not spend the token.
      return req.method === "GET" ? tryClaim(claim, res) : sendText(res, 204, "");
    }
    serveApp(app, url.pathname, req, res, csp);
  };

  const server: Server = createServer(onRequest);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const expiry = setTimeout(() => {
    if (state !== "waiting") return;
    state = "expired";
    settle(false);
  }, options.claimTtlMs ?? CLAIM_TTL_MS);
  expiry.unref();

  return {
    url: `http://127.0.0.1:${port}/?claim=${token}`,
    port,
    csp,
    get state() {
      return state;
    },
    claimed,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(expiry);
        if (state === "waiting") settle(false);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
