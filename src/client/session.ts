/**
 * Session: one established, encrypted connection to a daemon — RPC correlation, per-request timeouts and STREAM
 * routing to subscriptions. Knows nothing about offers or reconnecting (DaemonClient does that).
 */
import {
  MessageType,
  type AppMessage,
  decodeClose,
  decodeStream,
  encodeClose,
  type StreamChunk,
} from "../protocol/frame.js";
import { decodeControl, encodeControl, type RpcEvent, type RpcRequest, type ServerInfo } from "../protocol/rpc.js";
import type { SecureChannel } from "../protocol/secure-channel.js";
import { PaseoError } from "../protocol/errors.js";
import { errorForClose, RpcError, TimeoutError } from "./errors.js";
import type { WebSocketLike } from "./transport.js";
import { toBytes } from "./transport.js";

export interface SubscriptionHandler {
  onChunk(chunk: StreamChunk): void;
  onEvent(event: RpcEvent): void;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Reserved request id for the request that rides in the handshake's early data. */
export const EARLY_REQUEST_ID = 0;

export class Session {
  private nextId = EARLY_REQUEST_ID + 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subs = new Map<number, SubscriptionHandler>();
  private closedError: PaseoError | undefined;
  private readonly closeListeners: ((err: PaseoError) => void)[] = [];
  private lastReceived = Date.now();
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private pinging = false;

  /**
   * @param keepaliveMs when nothing has arrived for this long, send a `ping`; no answer within another keepaliveMs
   * means the path is dead (a half-open socket never delivers a close), so the session ends with a TimeoutError
   * and DaemonClient may reconnect. 0 disables it.
   */
  constructor(
    private readonly socket: WebSocketLike,
    private readonly channel: SecureChannel,
    readonly server: ServerInfo,
    keepaliveMs = 0,
  ) {
    socket.onmessage = (ev) => this.onWire(ev.data);
    // A bare socket close on a live session is unauthenticated: the relay can forge its code (permanent.ts). The
    // daemon's own reasons arrive first as an encrypted CLOSE (dispatch below), and then this is a no-op.
    socket.onclose = (ev) => this.shutdown(errorForClose(ev.code, ev.reason, "unauthenticated"));
    socket.onerror = () => {};
    if (keepaliveMs > 0) this.keepaliveTimer = setInterval(() => this.keepalive(keepaliveMs), keepaliveMs);
  }

  private keepalive(ms: number): void {
    if (this.closedError || this.pinging || Date.now() - this.lastReceived < ms) return;
    this.pinging = true;
    this.request("ping", {}, ms).then(
      () => (this.pinging = false),
      (err: PaseoError) => {
        if (this.closedError) return;
        // Terminate rather than close: a dead path would hold a close handshake open for its own timeout.
        const terminate = (this.socket as { terminate?: () => void }).terminate;
        if (terminate) terminate.call(this.socket);
        else this.socket.close(4008, "keepalive timeout");
        this.shutdown(
          err instanceof TimeoutError ? new TimeoutError("keepalive (the path to the daemon went silent)", ms) : err,
        );
      },
    );
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Why the session ended (a named error), once it has. */
  get closeError(): PaseoError | undefined {
    return this.closedError;
  }

  onClose(listener: (err: PaseoError) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** Register the early request (sent inside the hello) so its response resolves like any other. */
  expectEarly(method: string, timeoutMs: number): Promise<unknown> {
    return this.track(EARLY_REQUEST_ID, method, timeoutMs);
  }

  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const promise = this.track(id, method, timeoutMs);
    this.sendControl({ t: "req", id, method, params });
    return promise;
  }

  subscribe(sub: number, handler: SubscriptionHandler): () => void {
    this.subs.set(sub, handler);
    return () => this.subs.delete(sub);
  }

  close(code = 1000, reason = "client closed"): void {
    // Say goodbye inside the channel first: the daemon counts a pairing-offer use only once the client sends an
    // authenticated message after the handshake (a replayed hello cannot), and a client that only used early data
    // (`paseo ls`) would otherwise never send one. docs/protocol.md §3.3.
    if (!this.closedError) {
      try {
        for (const m of this.channel.encrypt({ type: MessageType.CLOSE, body: encodeClose(code, reason) }))
          this.socket.send(m);
      } catch {
        // socket or channel already gone: the transport close below still ends the session
      }
    }
    try {
      this.socket.close(code, reason);
    } catch {
      // already closed
    }
    this.shutdown(errorForClose(code, reason));
  }

  private track(id: number, method: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new TimeoutError(`request ${method}`, timeoutMs));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { method, resolve, reject, timer });
    });
  }

  private sendControl(request: RpcRequest): void {
    for (const m of this.channel.encrypt({ type: MessageType.CONTROL, body: encodeControl(request) }))
      this.socket.send(m);
  }

  private onWire(data: unknown): void {
    if (this.closedError) return;
    this.lastReceived = Date.now();
    const bytes = toBytes(data);
    let message: AppMessage | undefined;
    try {
      if (!bytes)
        throw new PaseoError("PROTOCOL_ERROR", "the relay sent a non-binary frame: paseo messages are binary");
      message = this.channel.decrypt(bytes);
    } catch (err) {
      // Tampered, replayed, reordered or reflected: fatal, named, and the socket is closed.
      this.fail(err as PaseoError);
      return;
    }
    if (!message) return;
    try {
      this.dispatch(message);
    } catch (err) {
      this.fail(err as PaseoError);
    }
  }

  private dispatch(message: AppMessage): void {
    if (message.type === MessageType.STREAM) {
      const chunk = decodeStream(message.body);
      this.subs.get(chunk.subId)?.onChunk(chunk);
      return;
    }
    if (message.type === MessageType.CLOSE) {
      const { code, reason } = decodeClose(message.body);
      // The daemon's authenticated reason: the only close code this client believes on an established session.
      this.shutdown(errorForClose(code, reason, "authenticated"));
      this.close(code, reason);
      return;
    }
    const control = decodeControl(message.body);
    if (control.t === "res") {
      const pending = this.pending.get(control.id);
      if (!pending) return; // a late answer to a request that already timed out
      this.pending.delete(control.id);
      if (pending.timer) clearTimeout(pending.timer);
      if (control.ok) pending.resolve(control.result);
      else pending.reject(new RpcError(pending.method, control.error.code, control.error.message));
    } else if (control.t === "evt") {
      this.subs.get(control.sub)?.onEvent(control);
    }
  }

  private fail(err: PaseoError): void {
    try {
      this.socket.close(4108, "protocol error");
    } catch {
      // ignore
    }
    this.shutdown(err);
  }

  private shutdown(err: PaseoError): void {
    if (this.closedError) return;
    this.closedError = err;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.channel.fail();
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const sub of this.subs.values())
      sub.onEvent({ t: "evt", sub: -1, event: "error", error: { code: err.code, message: err.message } });
    this.subs.clear();
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}
