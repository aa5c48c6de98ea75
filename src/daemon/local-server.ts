/**
 * The local direct server: a WebSocket server on loopback for same-machine clients (`paseo ls` with no --relay).
 * It speaks exactly the client leg of the relay protocol and the same Noise handshake, with a *local offer* whose
 * secret lives in <home>/local-offer.json (0600) — so another local user, who cannot read that file, cannot drive
 * the daemon even though the port is reachable.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { RELAY_PATH } from "../protocol/relay-url.js";
import { CloseCode } from "../protocol/close-codes.js";
import type { Logger } from "./logger.js";
import type { ClientPipe, PipeHandler } from "./pipe.js";
import { SendFlow } from "../relay/flow.js";
import { SEND_HIGH_WATER, SEND_LOW_WATER } from "./flow-limits.js";
import { FairScheduler } from "./fair-scheduler.js";
import { HttpGuard } from "../relay/http-guard.js";

const MAX_FRAME = 1024 * 1024;
/** Request headers must be complete this soon after the TCP connection opens (as at the relay, §10). */
const LOCAL_HEADERS_TIMEOUT_MS = 10_000;

export interface LocalServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startLocalServer(options: {
  host: string;
  port: number;
  serverId: string;
  log: Logger;
  onClient(pipe: ClientPipe): PipeHandler;
}): Promise<LocalServer> {
  const http: Server = createServer(HttpGuard.serverOptions(LOCAL_HEADERS_TIMEOUT_MS), (_req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("paseo daemon: local WebSocket endpoint only\n");
  });
  // Every local user shares 127.0.0.1, so a per-address cap would let one of them lock the others out: only the
  // header deadline applies here (silent sockets after the upgrade are handled by the handshake slots).
  const guard = new HttpGuard(Number.MAX_SAFE_INTEGER, LOCAL_HEADERS_TIMEOUT_MS);
  guard.attach(http);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, perMessageDeflate: false });
  let nextId = 1;
  const scheduler = new FairScheduler<number>();
  http.on("upgrade", (req, socket, head) => {
    guard.upgraded(socket as Socket);
    const url = new URL(req.url ?? "/", "http://localhost");
    if (
      url.pathname !== RELAY_PATH ||
      url.searchParams.get("role") !== "client" ||
      url.searchParams.get("serverId") !== options.serverId
    ) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const id = nextId++;
      // The peer's address is its source for fair handshake slots (handshake-slots.ts); loopback users share one.
      const pipe = new LocalPipe(ws, `local#${id}`, `local:${req.socket.remoteAddress ?? "unknown"}`);
      const handler = options.onClient(pipe);
      scheduler.add(
        id,
        (data) => handler.receive(data),
        (paused) => (paused ? ws.pause() : ws.resume()),
      );
      ws.on("message", (data: Buffer, isBinary) => {
        if (!isBinary) return pipe.close(CloseCode.BAD_REQUEST, "text frame");
        scheduler.push(id, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      ws.on("close", () => {
        scheduler.remove(id);
        pipe.flow.cancel();
        handler.closed();
      });
      ws.on("error", () => {
        // oversized frames and protocol errors end in 'close'; nothing else to do
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address() as AddressInfo;
  return {
    host: options.host,
    port: address.port,
    async close() {
      for (const ws of wss.clients) ws.close(CloseCode.DAEMON_SHUTDOWN, "daemon shutting down");
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections?.();
    },
  };
}

class LocalPipe implements ClientPipe {
  /** Outbound backpressure, driven by ws send callbacks. */
  readonly flow = new SendFlow({ high: SEND_HIGH_WATER, low: SEND_LOW_WATER });
  constructor(
    private readonly ws: WebSocket,
    readonly label: string,
    readonly source: string,
  ) {}
  send(data: Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.flow.send(this.ws, data);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  get writable(): boolean {
    return this.flow.writable;
  }
  onWritable(listener: () => void): void {
    this.flow.onWritable(listener);
  }
}
