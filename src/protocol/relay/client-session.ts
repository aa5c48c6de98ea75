/**
 * The relay side of one client socket (§5.4). A client names a serverId and is attached to that daemon's socket
 * under a relay-assigned clientId it never sees, so it cannot address, observe or disturb any other client.
 *
 * No extra round trip: the client's first message is forwarded as soon as it arrives (OPEN was sent on attach).
 * If no daemon holds the slot, the client waits up to offlineGraceMs (a daemon mid-reconnect) with its socket
 * unread, then gets 4001 — fast, explicit failure instead of a client-side timeout.
 *
 * Flow control toward the client: above the high-water mark the daemon gets PAUSE for this client only, below the
 * low-water mark RESUME; a daemon that overruns the hard cap anyway gets this client closed with 4006.
 */
import { CloseCode, closeReason } from "../close-codes.js";
import type { RelayContext, Session } from "./context.js";
import { shortId } from "../server-id.js";
import type { DaemonSession } from "./daemon-session.js";
import { type FlowSignal, watchFlow } from "./flow.js";
import type { Peer } from "./peer.js";

/** Hold reason while the client waits for its daemon. */
const PENDING = "pending";

export class ClientSession implements Session {
  private state: "pending" | "attached" | "closed" = "pending";
  private daemon: DaemonSession | undefined;
  private clientId = 0;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Messages that arrived before the daemon did (the socket is held, so at most what ws had already parsed). */
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private readonly flow: ReturnType<typeof watchFlow>;
  /** Until the first message: counted in ctx.pending and on the first-message clock. */
  private silent = true;
  private firstMessageTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pendingLeg = {
    evict: () => this.closeFromRelay(CloseCode.RATE_LIMITED, "too many silent connections from this address"),
  };
  /** The opaque per-source tag the daemon gets in OPEN (§5.3). */
  readonly sourceTag: Uint8Array;

  constructor(
    readonly serverId: string,
    readonly peer: Peer,
    private readonly ctx: RelayContext,
    /** The limiter key of the client's address (limits.ts). */
    private readonly source: string,
  ) {
    this.flow = watchFlow(peer, ctx.opts, (signal) => this.applyFlow(signal));
    this.sourceTag = ctx.pending.tag(source);
    peer.onMessage = (data, isBinary) => this.onMessage(data, isBinary);
    peer.onQueueOverflow = () => this.closeFromRelay(CloseCode.OVERLOADED);
  }

  /**
   * Rebuild an attached client after hibernation (src/relay-worker): it already spoke and already has its clientId
   * on the daemon's socket; nothing is sent to anyone.
   */
  restore(daemon: DaemonSession, clientId: number): void {
    this.silent = false;
    this.daemon = daemon;
    this.clientId = clientId;
    this.state = "attached";
    daemon.reattach(this, clientId);
  }

  start(): void {
    // A client sends its hello as soon as the socket opens; one that stays silent is holding a daemon slot hostage.
    this.firstMessageTimer = setTimeout(
      () => this.closeFromRelay(CloseCode.TIMEOUT, "no first message in time"),
      this.ctx.opts.firstMessageTimeoutMs,
    );
    this.ctx.pending.add(this.source, this.serverId, this.pendingLeg);
    const daemon = this.ctx.router.lookup(this.serverId);
    if (daemon) return this.attachTo(daemon);
    this.peer.hold(PENDING);
    this.ctx.router.wait(this);
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      this.ctx.log("debug", `client of ${shortId(this.serverId)}: daemon offline`);
      this.closeFromRelay(CloseCode.DAEMON_OFFLINE);
    }, this.ctx.opts.offlineGraceMs);
  }

  /** Called when this client's daemon is found (at once, or when it registers during the grace). */
  attachTo(daemon: DaemonSession): void {
    if (this.state !== "pending" || !this.peer.isOpen) return;
    clearTimeout(this.graceTimer);
    this.ctx.router.unwait(this);
    const id = daemon.attach(this);
    if (id === undefined) {
      this.ctx.log("warn", `client of ${shortId(this.serverId)}: daemon at its client limit`);
      return this.closeFromRelay(CloseCode.OVERLOADED, "daemon has too many clients");
    }
    this.daemon = daemon;
    this.clientId = id;
    this.state = "attached";
    for (const message of this.queued) daemon.forward(id, message);
    this.queued = [];
    this.queuedBytes = 0;
    this.peer.socket.remember?.({ role: "client", serverId: this.serverId, source: this.source, clientId: id });
    this.peer.release(PENDING);
  }

  onMessage(data: Uint8Array, isBinary: boolean): void {
    this.peer.received(data.length);
    if (this.state === "closed") return;
    if (this.silent) this.spoke();
    if (!isBinary) return this.closeFromRelay(CloseCode.BAD_REQUEST, "text frames are not allowed");
    if (this.state === "attached") return this.daemon!.forward(this.clientId, data);
    this.queuedBytes += data.length;
    if (this.queuedBytes > this.ctx.opts.maxBufferedBytes) return this.closeFromRelay(CloseCode.OVERLOADED);
    this.queued.push(data);
  }

  /** One DATA payload from the daemon for this client. */
  deliver(payload: Uint8Array): void {
    if (this.state !== "attached" || !this.peer.send(payload)) return;
    this.flow.check();
  }

  /** The daemon asked to close this client (it already forgot the clientId). */
  closeByDaemon(code: number, reason: string): void {
    this.detach();
    this.peer.close(code, reason);
  }

  /** The daemon socket ended or was replaced: the Noise session died with it, so the client must reconnect. */
  daemonGone(): void {
    this.detach();
    this.peer.close(CloseCode.DAEMON_GONE);
  }

  /** The relay ends this client; the daemon hears the same code immediately, not after the close handshake. */
  closeFromRelay(code: number, reason: string = closeReason[code] ?? ""): void {
    this.daemon?.clientLeft(this.clientId, code, reason);
    this.detach();
    this.peer.close(code, reason);
  }

  /** The socket is gone (or failed): tell the daemon, with the relay's code if the relay ended it. */
  onClose(code: number, reason: string): void {
    const sent = this.peer.closeCodeSent;
    this.daemon?.clientLeft(this.clientId, sent ?? code, sent !== undefined ? (closeReason[sent] ?? "") : reason);
    this.detach();
  }

  private spoke(): void {
    this.silent = false;
    clearTimeout(this.firstMessageTimer);
    this.ctx.pending.remove(this.source, this.serverId, this.pendingLeg);
  }

  private detach(): void {
    if (this.silent) this.spoke();
    this.state = "closed";
    this.daemon = undefined;
    clearTimeout(this.graceTimer);
    this.ctx.router.unwait(this);
    this.queued = [];
    this.queuedBytes = 0;
  }

  private applyFlow(signal: FlowSignal): void {
    if (signal === undefined || this.state !== "attached") return;
    if (signal === "overflow") {
      this.ctx.log("warn", `client of ${shortId(this.serverId)}: outbound buffer above the cap; closing`);
      return this.closeFromRelay(CloseCode.OVERLOADED);
    }
    if (signal === "pause") this.daemon!.sendPause(this.clientId);
    else this.daemon!.sendResume(this.clientId);
  }
}
