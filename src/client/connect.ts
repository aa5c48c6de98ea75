/**
 * Open a socket to the relay (or the local daemon), run the paseo handshake and return a Session.
 * The first read-only request may ride in the hello's early data, so its answer arrives one round trip after the
 * socket opens. Every failure maps to a named error; none mentions the secret.
 *
 * Three ways in (docs/protocol.md §6), chosen by `auth`: a bearer offer (hello 0x01, NKpsk0), an enrolled device's
 * own key (0x02, IK), or a device key enrolled with a ticket (0x03, IKpsk1). Everything after the handshake is the
 * same Session.
 */
import type { SessionInfo } from "../protocol/device.js";
import type { CryptoBackend, KeyPair } from "../protocol/crypto/backend.js";
import { type AppMessage, MessageType } from "../protocol/frame.js";
import { ClientHandshake } from "../protocol/handshake.js";
import { DeviceClientHandshake } from "../protocol/handshake-device.js";
import { fromBase64Url } from "../protocol/encoding.js";
import type { SecureChannel } from "../protocol/secure-channel.js";
import { offerBytes, type Offer } from "../protocol/offer.js";
import { decodeControl, encodeControl, type ServerInfo } from "../protocol/rpc.js";
import { PaseoError } from "../protocol/errors.js";
import { errorForClose, handshakeFailed, RelayUnreachableError, TimeoutError } from "./errors.js";
import { buildRelayUrl } from "../protocol/relay-url.js";
import { EARLY_REQUEST_ID, Session } from "./session.js";
import { toBytes, type WebSocketConstructor } from "./transport.js";

/** Which daemon: its id, its static public key and the relay it registers with (an Offer has these fields). */
export interface DaemonRef {
  serverId: string;
  daemonPublicKeyB64: string;
  relay: { endpoint: string; tls: boolean };
}

/** How this client authenticates (see the file comment). */
export type ConnectAuth =
  | { kind: "offer"; offer: Offer }
  | { kind: "device"; deviceKey: KeyPair }
  | { kind: "enroll"; offer: Offer; deviceKey: KeyPair };

export interface ConnectOptions {
  daemon: DaemonRef;
  auth: ConnectAuth;
  backend: CryptoBackend;
  WebSocket: WebSocketConstructor;
  /** Overrides the URL built from the offer (tests, local direct connections). */
  url?: string;
  /** A read-only request to send as early data. */
  early?: { method: string; params: Record<string, unknown> };
  timeoutMs: number;
  /** Session keepalive interval (0 = off); see Session. */
  keepaliveMs?: number;
}

export interface Connected {
  session: Session;
  server: ServerInfo;
  /** The welcome's SessionInfo (§6): rights, device id, whether this handshake enrolled the device. */
  info: SessionInfo | undefined;
  /** The handshake's final hash (device handshakes only): the SAS is derived from it. */
  handshakeHash: Uint8Array | undefined;
  /** Resolves with the early request's result (if one was sent). */
  early: Promise<unknown> | undefined;
}

interface AnyClientHandshake {
  hello(early?: AppMessage): Uint8Array;
  readReply(message2: Uint8Array): {
    channel: SecureChannel;
    welcome: AppMessage | undefined;
    handshakeHash?: Uint8Array;
  };
}

function handshakeFor(options: ConnectOptions): AnyClientHandshake {
  const { daemon, auth, backend } = options;
  if (auth.kind === "offer") {
    const { daemonPublicKey, offerId, secret } = offerBytes(auth.offer);
    return new ClientHandshake({ backend, serverId: daemon.serverId, daemonPublicKey, offerId, psk: secret });
  }
  const daemonPublicKey = fromBase64Url(daemon.daemonPublicKeyB64);
  if (daemonPublicKey?.length !== 32) throw handshakeFailed("the daemon's public key must be 32 bytes of base64url");
  const enroll = auth.kind === "enroll" ? offerBytes(auth.offer) : undefined;
  return new DeviceClientHandshake({
    backend,
    serverId: daemon.serverId,
    daemonPublicKey,
    deviceKey: auth.deviceKey,
    ...(enroll ? { enroll: { offerId: enroll.offerId, psk: enroll.secret } } : {}),
  });
}

export function connect(options: ConnectOptions): Promise<Connected> {
  const { daemon: offer } = options;
  const url = options.url ?? buildRelayUrl(offer.relay, "client", offer.serverId);
  const where = url.replace(/\?.*$/, "");
  let handshake: AnyClientHandshake;
  try {
    handshake = handshakeFor(options);
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise<Connected>((resolve, reject) => {
    let settled = false;
    let opened = false;
    const socket = new options.WebSocket(url);
    socket.binaryType = "arraybuffer";
    const timer = setTimeout(
      () =>
        finish(new TimeoutError(opened ? "handshake with the daemon" : `connecting to ${where}`, options.timeoutMs)),
      options.timeoutMs,
    );

    const finish = (err: PaseoError | undefined, connected?: Connected) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        socket.onmessage = socket.onclose = socket.onerror = socket.onopen = null;
        try {
          socket.close(1000);
        } catch {
          // never opened
        }
        reject(err);
      } else resolve(connected!);
    };

    socket.onopen = () => {
      opened = true;
      const early = options.early
        ? { type: MessageType.CONTROL, body: encodeControl({ t: "req", id: EARLY_REQUEST_ID, ...options.early }) }
        : undefined;
      try {
        socket.send(handshake.hello(early));
      } catch (err) {
        finish(err instanceof PaseoError ? err : handshakeFailed(String(err)));
      }
    };
    socket.onerror = () => {
      // The close event that follows carries the code; an error before open means the relay is unreachable.
    };
    socket.onclose = (ev) => {
      finish(
        opened || ev.code >= 4000
          ? errorForClose(ev.code, ev.reason)
          : new RelayUnreachableError(where, `close ${ev.code}`, offer.relay.endpoint),
      );
    };
    socket.onmessage = (ev) => {
      const bytes = toBytes(ev.data);
      if (!bytes) return finish(handshakeFailed("the relay sent a non-binary frame during the handshake"));
      let reply: ReturnType<typeof handshake.readReply>;
      try {
        reply = handshake.readReply(bytes);
      } catch (err) {
        return finish(
          handshakeFailed(
            `the daemon's reply did not authenticate (${(err as PaseoError).code ?? "error"}): something between you and the daemon altered it, or this is not the daemon named in the offer`,
          ),
        );
      }
      let server: ServerInfo;
      let info: SessionInfo | undefined;
      try {
        const welcome =
          reply.welcome && reply.welcome.type === MessageType.CONTROL ? decodeControl(reply.welcome.body) : undefined;
        if (welcome?.t !== "welcome") throw new Error("no welcome");
        server = welcome.server;
        info = welcome.session;
      } catch {
        return finish(handshakeFailed("the daemon's welcome message was malformed"));
      }
      if (server.serverId !== offer.serverId) {
        return finish(handshakeFailed(`reached daemon ${server.serverId}, but the offer names ${offer.serverId}`));
      }
      if (options.auth.kind !== "offer" && info?.kind !== "device") {
        return finish(handshakeFailed("the daemon answered a device handshake without a device session"));
      }
      // Hand the socket to the session synchronously so the early response (same flight) is not missed.
      const session = new Session(socket, reply.channel, server, options.keepaliveMs ?? 0);
      const early = options.early ? session.expectEarly(options.early.method, options.timeoutMs) : undefined;
      early?.catch(() => {});
      finish(undefined, { session, server, info, early, handshakeHash: reply.handshakeHash });
    };
  });
}
