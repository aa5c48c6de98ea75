/**
 * One Durable Object per serverId: the daemon's socket and all its clients, routed by the same core as the Node
 * relay (src/protocol/relay/hub.ts). The Worker (worker.ts) sends every valid /v1/ws upgrade for a serverId here.
 *
 * Hibernation: sockets are accepted with state.acceptWebSocket, so workerd delivers their events to
 * webSocketMessage/webSocketClose and may evict this object from memory while they stay open — an idle daemon then
 * costs no memory and no duration. The core only lets that happen when no timer is pending (a registered daemon
 * alone has none: no pings on workerd, no idle timeout for daemons). Each session's routing record is stored with
 * its socket (serializeAttachment, via RelaySocket.remember); the constructor rebuilds the hub from them.
 *
 * Per-IP limits count the sockets of this object only (one serverId); a relay-wide per-IP cap belongs in front
 * of the Worker (a Cloudflare rate-limiting rule), see docs/relay-worker.md.
 */
import { CloseCode, closeReason } from "../protocol/close-codes.js";
import { nobleBackend } from "../protocol/crypto/noble.js";
import { utf8 } from "../protocol/encoding.js";
import { type Connection, RelayHub } from "../protocol/relay/hub.js";
import type { RelayStats } from "../protocol/relay/metrics.js";
import type { SessionRecord } from "../protocol/relay/socket.js";
import { limitsFromEnv } from "./env.js";
import { FLUSH_MS, emptyStats, statsDelta } from "./metrics-object.js";
import { WorkerRelaySocket } from "./socket.js";
import {
  type DurableObjectState,
  type RelayEnv,
  type WorkerSocket,
  newWebSocketPair,
  upgradeResponse,
} from "./workerd.js";

const HOLD_RECHECK_MS = 1000;

/** Close codes a peer may not put in a close frame (RFC 6455 §7.4.1): answer those with a plain 1000. */
function echoable(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
}

export class RelayObject {
  private hub: RelayHub | undefined;
  private readonly conns = new Map<WorkerSocket, Connection>();
  /** What MetricsObject has been told so far. */
  private reported: RelayStats = emptyStats();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Pending while any socket is held: see afterEvent. */
  private holdTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly state: DurableObjectState,
    private readonly env: RelayEnv,
  ) {
    this.restore();
  }

  /** A /v1/ws upgrade for this object's serverId (the Worker already checked the route). */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("this is a WebSocket endpoint\n", { status: 426, headers: { Upgrade: "websocket" } });
    }
    const hub = this.ensureHub();
    const [client, server] = newWebSocketPair();
    this.state.acceptWebSocket(server);
    const url = new URL(request.url);
    // Cloudflare sets CF-Connecting-IP at its edge (a client cannot forge it there); locally miniflare sets it.
    const address = request.headers.get("CF-Connecting-IP") ?? "unknown";
    this.conns.set(server, hub.accept(new WorkerRelaySocket(server), url.pathname + url.search, address));
    this.afterEvent();
    return upgradeResponse(client);
  }

  webSocketMessage(ws: WorkerSocket, message: ArrayBuffer | string): void {
    const conn = this.conns.get(ws);
    if (typeof message === "string") conn?.message(utf8(message), false);
    else conn?.message(new Uint8Array(message), true);
    this.afterEvent();
  }

  webSocketClose(ws: WorkerSocket, code: number, reason: string): void {
    this.conns.get(ws)?.closed(code, reason);
    this.conns.delete(ws);
    // Complete the close handshake (older compatibility dates do not answer a peer's close frame by themselves).
    try {
      ws.close(echoable(code), reason);
    } catch {
      // Already closed.
    }
    this.afterEvent();
  }

  webSocketError(ws: WorkerSocket): void {
    const conn = this.conns.get(ws);
    conn?.error();
    conn?.closed(1006, "");
    this.conns.delete(ws);
    this.afterEvent();
  }

  private ensureHub(tagKey?: string): RelayHub {
    this.hub ??= new RelayHub({
      limits: limitsFromEnv(this.env, nobleBackend),
      runtimeCapsFrames: false,
      pings: false,
      ...(tagKey === undefined ? {} : { tagKey }),
    });
    return this.hub;
  }

  /** After hibernation: rebuild every session from its socket's record, daemons before their clients. */
  private restore(): void {
    const records: Array<[WorkerSocket, SessionRecord]> = [];
    for (const ws of this.state.getWebSockets()) {
      const record = ws.deserializeAttachment() as SessionRecord | null;
      // No record: a socket the relay already closed (waiting for the peer's close frame), or one mid-admission
      // (auth, pending) whose timers should have kept us awake — an eviction, not hibernation. Either way its
      // session is gone: close it (a no-op if it is already closing).
      if (!record) {
        try {
          ws.close(CloseCode.RELAY_RESTARTING, closeReason[CloseCode.RELAY_RESTARTING]);
        } catch {}
        continue;
      }
      records.push([ws, record]);
    }
    if (records.length === 0) return;
    records.sort(([, a], [, b]) => (a.role === b.role ? 0 : a.role === "server" ? -1 : 1));
    const daemon = records.find(([, r]) => r.role === "server")?.[1];
    const hub = this.ensureHub(daemon?.role === "server" ? daemon.tagKey : undefined);
    for (const [ws, record] of records) this.conns.set(ws, hub.restore(new WorkerRelaySocket(ws), record));
    // Everything rebuilt was reported before hibernating: only changes from here on are news.
    this.reported = hub.stats();
    const daemons = records.filter(([, r]) => r.role === "server").length;
    hub.ctx.log("info", `woke from hibernation: ${daemons} daemon(s), ${records.length - daemons} client(s)`);
  }

  /**
   * After every event: report counter changes to MetricsObject, batched (a pending report keeps this object awake
   * until sent); and while any socket is held (its daemon sent PAUSE), stay awake — the hold and the messages queued
   * under it live in memory, and hibernating would drop them.
   */
  private afterEvent(): void {
    if (!this.hub) return;
    if (this.holdTimer === undefined && this.hub.holding) {
      const recheck = () => {
        this.holdTimer = this.hub?.holding ? setTimeout(recheck, HOLD_RECHECK_MS) : undefined;
      };
      this.holdTimer = setTimeout(recheck, HOLD_RECHECK_MS);
    }
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  private async flush(): Promise<void> {
    if (!this.hub) return;
    const now = this.hub.stats();
    const delta = statsDelta(now, this.reported);
    if (!delta) return;
    this.reported = now;
    try {
      const stub = this.env.METRICS.get(this.env.METRICS.idFromName("metrics"));
      await stub.fetch("https://metrics/delta", { method: "POST", body: JSON.stringify(delta) });
    } catch {
      // Metrics are best effort; routing never waits on them.
    }
  }
}
