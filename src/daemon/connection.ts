import { CloseCode, closeReason } from "../protocol/close-codes.js";
import { PaseoError } from "../protocol/errors.js";
import { type AppMessage, encodeClose, encodeStream, MessageTooLargeError, MessageType } from "../protocol/frame.js";
import type { DeviceRights, SessionInfo } from "../protocol/device.js";
import {
  decodeControl,
  encodeControl,
  READ_ONLY_DEVICE_METHODS,
  READ_ONLY_METHODS,
  RpcErrorCode,
  type ControlMessage,
  type RpcRequest,
} from "../protocol/rpc.js";
import { isMethod, ParamsError, validateParams } from "../protocol/rpc-params.js";
import type { SecureChannel } from "../protocol/secure-channel.js";
import type { AgentInfo, AgentManager } from "./agents/index.js";
import { ConnectionStreams } from "./connection-streams.js";
import type { Logger } from "./logger.js";
import type { SessionTicket } from "./offer-sessions.js";
import type { HandshakeSlot, HandshakeSlots } from "./handshake-slots.js";
import type { ClientPipe, PipeHandler } from "./pipe.js";
import { createHandlers } from "./rpc-handlers.js";
import { TerminalAttachments } from "./terminal-attachments.js";
import type { TerminalLanes } from "./terminal-lanes.js";
import type { ServerInfoSource } from "./server-info.js";
import type { AuditActor, AuditLog } from "./audit-log.js";
import { ConnectionAudit } from "./connection-audit.js";
import type { InputSwitch } from "./input-switch.js";
import { admitHello, type AdmissionContext, type Refused } from "./hello-admission.js";

export type { OfferLookup } from "./hello-admission.js";

/** A live session as the offer and device trackers see it (offer-sessions.ts, device-sessions.ts). */
export interface LiveSession {
  close(code: number): void;
  /** The device's rights changed (`paseo daemon devices set`): applies to the next request. */
  setRights(rights: DeviceRights): void;
}

/**
 * Admission (hello-admission.ts: lookupOffer, commitOfferUse, devices, actorOf) plus what a session needs.
 */
export interface ConnectionContext extends AdmissionContext {
  /**
   * Register a session once message 2 is sent, so that revoking or expiring its offer closes it (4103 / 4102).
   * Optional: without it sessions are not tracked.
   */
  openSession?(offerId: string, once: boolean, session: LiveSession): SessionTicket;
  /** Register a device session: a revoke closes it (4114), a rights change applies at once (device-sessions.ts). */
  openDeviceSession?(deviceId: string, session: LiveSession): SessionTicket;
  /** Log lines and audit entries for device events (enrolled, seen). */
  deviceEvents?: {
    enrolled(device: import("../protocol/device.js").DeviceInfo, via: string): void;
    seen(deviceId: string, from: string): void;
  };
  agents: AgentManager;
  /** Writer/watcher lanes of terminal agents, shared by all connections (wired to `agents` with bindLanes). */
  lanes: TerminalLanes;
  info: ServerInfoSource;
  handshakes: HandshakeSlots;
  log: Logger;
  /** The client's first message (the hello) must arrive this soon after the socket opened, else 4106. */
  helloTimeoutMs: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  /** Largest application message accepted from a client. */
  maxIncomingMessage: number;
  /** The audit log (audit-log.ts); absent → nothing is recorded. */
  audit?: AuditLog;
  /** The input kill switch; absent → input always enabled. */
  input?: InputSwitch;
}

type Phase = "hello" | "open" | "closed";

export class ClientConnection implements PipeHandler, LiveSession {
  private phase: Phase = "hello";
  private channel: SecureChannel | undefined;
  private streams: ConnectionStreams | undefined;
  private terminals: TerminalAttachments | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticket: SessionTicket | undefined;
  /** Who this session is, once the handshake completed (the audit log's actor). */
  private actor: AuditActor | undefined;
  /** What the daemon decided at the handshake (kind, rights); rights follow `paseo daemon devices set`. */
  private session: SessionInfo | undefined;
  private readonly audit: ConnectionAudit;
  private slot: HandshakeSlot | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly handlers;

  constructor(
    private readonly pipe: ClientPipe,
    private readonly ctx: ConnectionContext,
  ) {
    this.handlers = createHandlers(ctx);
    this.audit = new ConnectionAudit(ctx.audit, pipe.label); // "relay#12" / "local#3": the source tag is never shown
    // A silent connection may lose its slot to a newcomer (handshake-slots.ts says why): the client hears 4105.
    this.slot = ctx.handshakes.acquire(
      { evict: () => this.close(CloseCode.BUSY, "daemon busy: slot reclaimed from a silent connection") },
      pipe.source,
    );
    if (!this.slot) {
      this.close(CloseCode.BUSY);
      return;
    }
    this.timer = setTimeout(() => this.close(CloseCode.HANDSHAKE_TIMEOUT), ctx.handshakeTimeoutMs);
    this.helloTimer = setTimeout(() => this.close(CloseCode.HANDSHAKE_TIMEOUT, "no hello in time"), ctx.helloTimeoutMs);
  }

  receive(data: Uint8Array): void {
    if (this.phase === "closed") return;
    try {
      if (this.phase === "hello") void this.onHello(data).catch((err) => this.fail(err));
      else this.onTransport(data);
    } catch (err) {
      this.fail(err);
    }
  }

  closed(): void {
    this.teardown();
  }

  /** Close with an authenticated CLOSE message first when the channel is up, then the transport close. */
  close(code: number, reason = closeReason[code] ?? "closed"): void {
    if (this.phase === "closed") return;
    if (this.channel && !this.channel.isFailed) {
      try {
        this.sendMessage({ type: MessageType.CLOSE, body: encodeClose(code, reason) });
      } catch {
        // channel already broken: the transport close below still carries the code
      }
    }
    this.pipe.close(code, reason);
    this.teardown();
  }

  private async onHello(data: Uint8Array): Promise<void> {
    this.phase = "open"; // further bytes before the reply are transport messages (and would fail to decrypt)
    clearTimeout(this.helloTimer);
    this.slot?.working();
    const admitted = await admitHello(data, this.ctx);
    if (this.phase !== "open") return;
    if ("code" in admitted) return this.refuse(admitted);
    const session = admitted.session;
    const welcome = encodeControl({ t: "welcome", server: await this.ctx.info.get(), session });
    if (this.phase !== "open") return; // closed while collecting server info
    const { message, channel } = admitted.reply({ type: MessageType.CONTROL, body: welcome });
    if (admitted.commit) {
      const committed = await admitted.commit(this.from());
      if (this.phase !== "open") return;
      if ("code" in committed) return this.refuse(committed);
      this.ctx.deviceEvents?.enrolled(committed.enrolled, this.pipe.label);
      this.audit.deviceEnrolled(committed.enrolled.id, {
        offerId: committed.enrolled.offerId ?? "",
        rights: committed.enrolled.rights,
        sas: committed.enrolled.sas,
        label: committed.enrolled.label,
      });
    }
    this.channel = channel;
    this.session = { ...session };
    this.pipe.send(message);
    if (admitted.offer) this.ticket = this.ctx.openSession?.(admitted.offer.id, admitted.offer.once, this);
    else if (session.deviceId) {
      this.ticket = this.ctx.openDeviceSession?.(session.deviceId, this);
      this.ctx.deviceEvents?.seen(session.deviceId, this.from());
    }
    this.actor = admitted.actor;
    this.audit.handshakeAccepted(this.actor);
    this.releaseHandshakeSlot();
    this.streams = new ConnectionStreams(this.ctx.agents, this.streamSink());
    this.terminals = new TerminalAttachments(this.ctx.agents, this.ctx.lanes, this.streams, (evt) => this.send(evt));
    this.touch();
    if (admitted.early) this.onMessage(admitted.early, true);
  }

  /** Where this client came from, as a device record shows it (the relay's source tag is never shown). */
  private from(): string {
    return this.pipe.label.startsWith("local") ? "local" : "relay";
  }

  setRights(rights: DeviceRights): void {
    if (this.session) this.session.rights = rights;
  }

  private onTransport(data: Uint8Array): void {
    if (!this.channel) return this.close(CloseCode.PROTOCOL_ERROR); // data before the handshake completed
    let message: AppMessage | undefined;
    try {
      message = this.channel.decrypt(data);
    } catch (err) {
      this.ctx.log("info", `${this.pipe.label}: closing (${(err as PaseoError).code ?? "error"})`);
      // 4109's reason names the size and the limit ("message of N bytes exceeds the 4194304-byte limit").
      if (err instanceof MessageTooLargeError) return this.close(CloseCode.MESSAGE_TOO_LARGE, err.message);
      return this.close(CloseCode.PROTOCOL_ERROR);
    }
    this.touch();
    // Only the client that holds the handshake keys can produce this: a replayed hello never gets here.
    this.ticket?.confirm();
    if (message) this.onMessage(message, false);
  }

  private onMessage(message: AppMessage, early: boolean): void {
    if (message.type === MessageType.CLOSE) return this.close(1000, "client closed");
    if (message.type !== MessageType.CONTROL)
      return this.close(CloseCode.PROTOCOL_ERROR, "unexpected stream message from client");
    let control: ControlMessage;
    try {
      control = decodeControl(message.body);
    } catch {
      return this.close(CloseCode.PROTOCOL_ERROR, "malformed control message");
    }
    if (control.t !== "req") return this.close(CloseCode.PROTOCOL_ERROR, "clients may only send requests");
    void this.handle(control, early);
  }

  /** A refused hello: logged, audited with the close code's name when it named someone, then closed. */
  private refuse(refused: Refused): void {
    this.ctx.log("info", `${this.pipe.label}: refused (${refused.code}): ${refused.why}`);
    if (refused.actor) this.audit.handshakeRefused(refused.actor, refused.code);
    this.close(refused.code);
  }

  private async handle(req: RpcRequest, early: boolean): Promise<void> {
    let result: unknown;
    let errorCode: string | undefined;
    try {
      result = await this.dispatch(req, early);
    } catch (err) {
      const code =
        err instanceof ParamsError
          ? RpcErrorCode.BAD_PARAMS
          : err instanceof PaseoError
            ? err.code
            : RpcErrorCode.INTERNAL;
      errorCode = code;
      const message = err instanceof PaseoError ? err.message : "internal error";
      if (!(err instanceof PaseoError))
        this.ctx.log("warn", `${this.pipe.label}: ${req.method} failed: ${(err as Error)?.message}`);
      this.send({ t: "res", id: req.id, ok: false, error: { code, message } });
    }
    if (this.actor) this.audit.request(this.actor, req.method, req.params, result, errorCode);
  }

  /** Run one request; responds itself and returns the result (for the audit log), or throws its error. */
  private async dispatch(req: RpcRequest, early: boolean): Promise<unknown> {
    if (!isMethod(req.method))
      throw new PaseoError(RpcErrorCode.UNKNOWN_METHOD, `unknown method "${req.method.slice(0, 40)}"`);
    if (early && !READ_ONLY_METHODS.has(req.method)) {
      throw new PaseoError(
        RpcErrorCode.EARLY_DATA_REJECTED,
        `${req.method} is not read-only and cannot be sent as early data`,
      );
    }
    const method = req.method;
    if (this.session?.rights === "read-only") this.checkReadOnly(method, req.params);
    // The kill switch: every agent-input path is refused while input is off (the session stays open).
    if (method === "agents.input" || method === "terminal.input") this.ctx.input?.check();
    const reply = <T>(result: T): T => {
      this.respond(req.id, result);
      return result;
    };
    if (method === "agents.logs") {
      const p = validateParams(method, req.params);
      const { nextSeq } = this.streams!.prepare(p.sub, p.id, p.since ?? 1);
      reply({ nextSeq });
      this.streams!.start(p.sub, p.id, p.since ?? 1, p.follow === true, nextSeq);
      return undefined;
    }
    if (method === "agents.unsubscribe") {
      const { sub } = validateParams(method, req.params);
      this.streams!.stop(sub);
      this.terminals!.detach(sub);
      return reply({});
    }
    if (method === "terminal.attach") {
      const attached = await this.terminals!.attach(validateParams(method, req.params));
      reply(attached.result);
      attached.begin();
      return attached.result;
    }
    if (method === "terminal.input") return reply(await this.terminals!.input(validateParams(method, req.params)));
    if (method === "terminal.resize") return reply(await this.terminals!.resize(validateParams(method, req.params)));
    if (method === "terminal.take") return reply(this.terminals!.take(validateParams(method, req.params)));
    if (method === "terminal.release") return reply(this.terminals!.release(validateParams(method, req.params)));
    if (method === "agents.input") this.terminals!.checkPlainInput(validateParams(method, req.params).id);
    const handler = this.handlers[method] as (p: unknown) => Promise<unknown>;
    return reply(await handler(validateParams(method, req.params)));
  }

  /**
   * The rights choke point: a read-only session's state-changing request never reaches a handler. A terminal
   * attach is served as a watch (like `tmux attach -r`); asking to take the writer lane is refused.
   */
  private checkReadOnly(method: string, params: Record<string, unknown>): void {
    const allowed = READ_ONLY_DEVICE_METHODS.has(method) && !(method === "terminal.attach" && params.take === true);
    if (!allowed) {
      const who = this.session?.deviceId ?? "this session";
      throw new PaseoError(
        RpcErrorCode.FORBIDDEN,
        `${method} is not allowed: device ${who} is read-only (on the daemon's machine: paseo daemon devices set ${who} --control)`,
      );
    }
    if (method === "terminal.attach") params.mode = "watch";
  }

  private respond(id: number, result: unknown): void {
    this.send({ t: "res", id, ok: true, result });
  }

  private send(message: ControlMessage): void {
    this.sendMessage({ type: MessageType.CONTROL, body: encodeControl(message) });
  }

  private sendMessage(message: AppMessage): void {
    if (this.phase === "closed" || !this.channel) return;
    for (const m of this.channel.encrypt(message)) this.pipe.send(m);
  }

  private streamSink() {
    const pipe = this.pipe;
    return {
      sendChunk: (sub: number, seq: number, fd: number, data: Uint8Array) =>
        this.sendMessage({ type: MessageType.STREAM, body: encodeStream({ subId: sub, seq, fd, data }) }),
      sendEnd: (sub: number, nextSeq: number, agent?: AgentInfo) => {
        this.terminals?.detach(sub);
        this.send({ t: "evt", sub, event: "end", nextSeq, ...(agent ? { agent } : {}) });
      },
      sendError: (sub: number, error: { code: string; message: string }) => {
        this.terminals?.detach(sub);
        this.send({ t: "evt", sub, event: "error", error });
      },
      get writable() {
        return pipe.writable;
      },
      onWritable: (l: () => void) => pipe.onWritable(l),
    };
  }

  /** Idle cleanup: a connection with no traffic and no open subscription for idleTimeoutMs is closed. */
  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.streams && this.streams.count > 0) return this.touch();
      this.close(CloseCode.IDLE);
    }, this.ctx.idleTimeoutMs);
  }

  private fail(err: unknown): void {
    this.ctx.log("warn", `${this.pipe.label}: unexpected error: ${(err as Error)?.message ?? err}`);
    this.close(CloseCode.PROTOCOL_ERROR);
  }

  private releaseHandshakeSlot(): void {
    this.slot?.release();
    this.slot = undefined;
  }

  private teardown(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    if (this.timer) clearTimeout(this.timer);
    clearTimeout(this.helloTimer);
    this.releaseHandshakeSlot();
    this.ticket?.release();
    this.streams?.closeAll();
    this.terminals?.closeAll();
    this.channel?.fail();
  }
}
