/**
 * Pre-upgrade HTTP connections (slow clients before the WebSocket upgrade). The WebSocket per-IP limits (limits.ts)
 * only see a connection once its request headers are complete, so a client that opens TCP connections and then
 * dribbles headers was counted nowhere and lived until Node's periodic header check (every 30 s) noticed it: with
 * a 1,024-fd relay, honest `ls` and /health failed. This guard works at the socket level, from 'connection':
 *
 * - per IP (IPv6: /64) at most `perIp` connections may be open and not yet upgraded; one more is destroyed at once;
 * - a connection whose request headers are not complete within `headersTimeoutMs` is destroyed by its own timer
 *   (and Node's own headersTimeout is checked every second as a backstop for later requests on a keep-alive socket).
 *
 * A connection stops counting when it upgrades (the WebSocket limiter takes over) or closes.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { limiterKey } from "./limits.js";

/** How often Node re-checks headersTimeout/requestTimeout on open connections (its default is 30 s). */
const CONNECTIONS_CHECK_MS = 1000;

export class HttpGuard {
  private readonly open = new Map<string, number>();
  private readonly timers = new Map<Socket, NodeJS.Timeout>();
  /** Connections dropped at once for being over the per-IP cap, and by the header deadline (for tests, metrics). */
  refused = 0;
  timedOut = 0;

  constructor(
    private readonly perIp: number,
    private readonly headersTimeoutMs: number,
  ) {}

  /** Options for http.createServer that make Node's own timeouts effective. */
  static serverOptions(headersTimeoutMs: number) {
    return {
      headersTimeout: headersTimeoutMs,
      requestTimeout: Math.max(30_000, headersTimeoutMs),
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    };
  }

  attach(server: Server): void {
    server.on("connection", (socket: Socket) => this.onConnection(socket));
    // A request's headers are complete: the deadline is met (Node's requestTimeout/keepAliveTimeout rule from here).
    server.on("request", (req) => this.headersDone(req.socket));
  }

  /** The connection upgraded (or its headers are complete); it no longer counts as pre-upgrade. */
  upgraded(socket: Socket): void {
    this.headersDone(socket);
    this.uncount(socket);
  }

  private onConnection(socket: Socket): void {
    const key = limiterKey(socket.remoteAddress ?? "unknown");
    const count = this.open.get(key) ?? 0;
    if (count >= this.perIp) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.open.set(key, count + 1);
    (socket as CountedSocket).paseoKey = key;
    const timer = setTimeout(() => {
      this.timedOut++;
      socket.destroy();
    }, this.headersTimeoutMs);
    timer.unref();
    this.timers.set(socket, timer);
    socket.once("close", () => {
      this.headersDone(socket);
      this.uncount(socket);
    });
  }

  private headersDone(socket: Socket): void {
    const timer = this.timers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(socket);
  }

  private uncount(socket: Socket): void {
    const counted = socket as CountedSocket;
    const key = counted.paseoKey;
    if (key === undefined) return;
    counted.paseoKey = undefined;
    const left = (this.open.get(key) ?? 1) - 1;
    if (left <= 0) this.open.delete(key);
    else this.open.set(key, left);
  }
}

type CountedSocket = Socket & { paseoKey?: string };
