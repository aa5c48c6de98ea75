/**
 * startDaemon(): wires identity, offers, agents, the local server, the relay link (and an embedded loopback relay
 * when none is configured) into one running daemon. The CLI's `paseo daemon start` is a thin wrapper around it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RelayEndpoint } from "../protocol/relay-url.js";
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { CloseCode } from "../protocol/close-codes.js";
import { toBase64Url } from "../protocol/encoding.js";
import { OFFER_ID_LEN } from "../protocol/handshake.js";
import { PSK_LEN } from "../protocol/noise/index.js";
import { startRelay, type Relay } from "../relay/index.js";
import { AgentManager } from "./agents/index.js";
import { ClientConnection, type ConnectionContext } from "./connection.js";
import { DEVICES_FILE, DeviceStore } from "./device-store.js";
import { DeviceSessions } from "./device-sessions.js";
import { bindLanes } from "./terminal-attachments.js";
import { TerminalLanes } from "./terminal-lanes.js";
import { HandshakeSlots } from "./handshake-slots.js";
import { ensureHome, loadConfig, DEFAULT_EMBEDDED_RELAY } from "./home.js";
import { loadOrCreateIdentity, type DaemonIdentity } from "./identity.js";
import { createLogger, type Logger } from "./logger.js";
import { shortId } from "../protocol/server-id.js";
import { OfferStore } from "./offer-store.js";
import { OfferSessions } from "./offer-sessions.js";
import { buildOffer, createPairing, type Pairing } from "./pairing.js";
import { RelayLink, type RelayLinkStatus } from "./relay-link.js";
import { startLocalServer, type LocalServer } from "./local-server.js";
import {
  acquireDaemonLock,
  removeRuntimeFiles,
  writeLocalOffer,
  writeStatus,
  type DaemonStatusFile,
} from "./runtime-files.js";
import { ServerInfoSource } from "./server-info.js";
import { AuditLog } from "./audit-log.js";
import { INPUT_FILE, InputSwitch } from "./input-switch.js";
import { resolveRelayHost } from "./relay-host.js";

/** The built browser app (dist/web/ next to dist/daemon/), served by the embedded relay so pairing links open it. */
function builtWebApp(): string | undefined {
  const dir = fileURLToPath(new URL("../web/", import.meta.url));
  return existsSync(join(dir, "index.html")) && existsSync(join(dir, "app.js")) ? dir : undefined;
}

/** Defaults of the limits the daemon enforces on clients (docs/protocol.md §10). */
export const DAEMON_DEFAULTS = {
  maxConcurrentHandshakes: 64,
  /** Waiting (pre-hello) connections one source may hold; beyond it its oldest is evicted with 4105. */
  maxWaitingHandshakesPerSource: 16,
  /** The client's first message (the hello) must arrive within this (4106). */
  helloTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 10 * 60_000,
  /** Largest application message accepted from a client (4109 above it). */
  maxIncomingMessage: 4 * 1024 * 1024,
} as const;

export interface DaemonOptions {
  home: string;
  /** Relay to register with. undefined → config.json's relay, else an embedded loopback relay. null → no relay. */
  relay?: RelayEndpoint | null;
  /** Loopback address of the local direct server (port 0 = any free port). */
  listen?: { host: string; port: number };
  /** Port for the embedded relay (default config.json's embeddedRelayPort, else 7431). */
  embeddedRelayPort?: number;
  /**
   * Where the embedded relay listens: "0.0.0.0", an interface name or an address (relay-host.ts). Default
   * config.json's embeddedRelayHost, else loopback only.
   */
  embeddedRelayHost?: string;
  /** Host put in links for a LAN embedded relay (default config.json's embeddedRelayAdvertise, else the LAN address). */
  embeddedRelayAdvertise?: string;
  /** Create a pairing offer at start (label "daemon start", 24 h) and return its link. Default true. */
  pairOnStart?: boolean;
  /** Active devices beyond which an enrollment is refused (4116). Default MAX_ACTIVE_DEVICES (tests lower it). */
  maxActiveDevices?: number;
  backend?: CryptoBackend;
  log?: Logger;
  handshakeTimeoutMs?: number;
  helloTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConcurrentHandshakes?: number;
  maxWaitingHandshakesPerSource?: number;
  relayPingIntervalMs?: number;
  stopGraceMs?: number;
}

export interface Daemon {
  readonly identity: DaemonIdentity;
  readonly home: string;
  readonly localUrl: string;
  readonly embeddedRelay: Relay | undefined;
  /** The embedded relay's address in links when it is on the LAN (`--relay-host`); undefined on loopback. */
  readonly lanRelay: RelayEndpoint | undefined;
  readonly relayStatus: RelayLinkStatus | null;
  readonly pairing: Pairing | undefined;
  readonly agents: AgentManager;
  /** Stop the daemon. Agents keep running in their hosts (the next start re-adopts them) unless `killAgents`. */
  close(opts?: { killAgents?: boolean }): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = options.log ?? createLogger();
  const home = await ensureHome(options.home);
  const releaseLock = await acquireDaemonLock(home);
  const cleanups: (() => Promise<void> | void)[] = [releaseLock];
  let killAgents = false;
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };
  let scheduleStatusRef: () => void = () => {}; // set once the status writer exists
  try {
    const backend = options.backend ?? (await loadDefaultBackend());
    const identity = await loadOrCreateIdentity(home, backend);
    const config = await loadConfig(home);
    const offers = new OfferStore(home, { backend });
    cleanups.push(() =>
      offers.flush().catch((err: Error) => log("warn", `could not record offer uses: ${err.message}`)),
    );
    const offerSessions = new OfferSessions(offers, log);
    // The audit log: a failing write never stops the daemon; it is logged once and shown by `daemon status`.
    const audit = AuditLog.open(home, {
      rotate: true,
      onFailure: (f) => {
        log("error", `cannot write the audit log (${f.message}); serving on, entries are being lost`);
        scheduleStatusRef();
      },
    });
    cleanups.push(() => audit.close());
    const input = new InputSwitch(home, (state) => {
      log("info", `input ${state.inputEnabled ? "enabled" : "disabled"} (input.json)`);
      scheduleStatusRef();
    });
    const devices = new DeviceStore(home, Date.now, options.maxActiveDevices);
    cleanups.push(() =>
      devices
        .flush()
        .catch((err: Error) => log("warn", `could not record when devices were last seen: ${err.message}`)),
    );
    const deviceSessions = new DeviceSessions(devices, log);
    cleanups.push(() => deviceSessions.stop());
    // One watcher on the home directory serves offers.json, devices.json and input.json.
    offerSessions.alsoWatch(INPUT_FILE, () => input.refresh());
    offerSessions.alsoWatch(DEVICES_FILE, () => deviceSessions.recheck());
    offerSessions.start();
    cleanups.push(() => offerSessions.stop());
    const agents = new AgentManager({ dir: join(home, "agents"), stopGraceMs: options.stopGraceMs, log });
    await agents.open();
    cleanups.push(() => agents.close({ killAgents }));
    const info = new ServerInfoSource(identity, home, () => input.enabled);
    const startedAt = new Date().toISOString();

    // The local offer: fresh secret every start, never in offers.json (so `pair --rotate` cannot lock you out).
    const localOfferId = toBase64Url(backend.randomBytes(OFFER_ID_LEN));
    const localSecret = backend.randomBytes(PSK_LEN);
    const handshakes = new HandshakeSlots(
      options.maxConcurrentHandshakes ?? DAEMON_DEFAULTS.maxConcurrentHandshakes,
      options.maxWaitingHandshakesPerSource ?? DAEMON_DEFAULTS.maxWaitingHandshakesPerSource,
    );
    const connections = new Set<ClientConnection>();
    const lanes = new TerminalLanes();
    cleanups.push(bindLanes(agents, lanes));
    const ctx: ConnectionContext = {
      backend,
      staticKey: { publicKey: identity.publicKey, secretKey: identity.secretKey },
      serverId: identity.serverId,
      async lookupOffer(offerId) {
        if (offerId === localOfferId) return { psk: localSecret };
        return offers.lookupForHandshake(offerId);
      },
      async commitOfferUse(offerId, once) {
        if (offerId === localOfferId) return true;
        // Single-use offers are consumed before the session proceeds; reusable ones are counted at confirm().
        return offerSessions.admit(offerId, once);
      },
      openSession(offerId, once, session) {
        // The local offer lives only in this process and local-offer.json: nothing revokes it but a restart.
        if (offerId === localOfferId) return { confirm() {}, release() {} };
        return offerSessions.open(offerId, once, session);
      },
      devices: {
        byKey: (key) => devices.byKey(key),
        full: () => devices.full(),
        spendTicket: (offerId, deviceId) =>
          offerId === localOfferId ? Promise.resolve("unknown") : offers.enrollDevice(offerId, deviceId),
        record: async (device) => {
          const result = await devices.enroll(device);
          return "refused" in result ? result : { device: result.device };
        },
      },
      openDeviceSession: (deviceId, session) => deviceSessions.open(deviceId, session),
      deviceEvents: {
        enrolled: (device, via) =>
          log(
            "info",
            `${via}: enrolled device ${device.id} (${device.label}, ${device.rights}); compare code ${device.sas}`,
          ),
        seen: (deviceId, from) => devices.seen(deviceId, from),
      },
      agents,
      lanes,
      info,
      handshakes,
      log,
      helloTimeoutMs: options.helloTimeoutMs ?? DAEMON_DEFAULTS.helloTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DAEMON_DEFAULTS.handshakeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DAEMON_DEFAULTS.idleTimeoutMs,
      maxIncomingMessage: DAEMON_DEFAULTS.maxIncomingMessage,
      audit,
      input,
      actorOf: (offerId) => (offerId === localOfferId ? { kind: "local", id: null } : { kind: "offer", id: offerId }),
    };
    let stopping = false;
    const onClient = (pipe: import("./pipe.js").ClientPipe) => {
      const conn = new ClientConnection(pipe, ctx);
      connections.add(conn);
      if (stopping) conn.close(CloseCode.DAEMON_SHUTDOWN); // arrived while the relay and local server wind down
      return {
        receive: (data: Uint8Array) => conn.receive(data),
        closed: () => {
          connections.delete(conn);
          conn.closed();
        },
      };
    };
    const listen = options.listen ?? { host: "127.0.0.1", port: 0 };
    const local: LocalServer = await startLocalServer({ ...listen, serverId: identity.serverId, log, onClient });
    cleanups.push(() => local.close());
    const localEndpoint = { endpoint: `${local.host}:${local.port}`, tls: false };
    await writeLocalOffer(
      home,
      buildOffer(
        identity,
        localEndpoint,
        { id: localOfferId, secretB64: toBase64Url(localSecret), label: "local" },
        backend,
      ),
    );
    cleanups.push(() => removeRuntimeFiles(home));

    // Relay: explicit, configured, or embedded (loopback by default, on the LAN with --relay-host).
    let relayEndpoint = options.relay === undefined ? config.relay : options.relay;
    let embeddedRelay: Relay | undefined;
    let lanRelay: RelayEndpoint | undefined;
    let embeddedListen: string | undefined;
    if (relayEndpoint === undefined) {
      const port =
        options.embeddedRelayPort ?? config.embeddedRelayPort ?? Number(DEFAULT_EMBEDDED_RELAY.endpoint.split(":")[1]);
      const binding = resolveRelayHost(
        options.embeddedRelayHost ?? config.embeddedRelayHost,
        options.embeddedRelayAdvertise ?? config.embeddedRelayAdvertise,
      );
      const webApp = builtWebApp();
      embeddedRelay = await startRelay({
        host: binding.bind,
        alsoListen: binding.alsoListen,
        port,
        // The embedded relay is the user's own process: serving the app from it is serving it from the user's
        // machine (the same trust as `paseo open`), so its links open in a browser with no extra setup. On the LAN
        // (`--relay-host`, the user's explicit choice) the page travels over the LAN unencrypted: docs/protocol.md §1.
        ...(webApp !== undefined ? { serveApp: true, staticDir: webApp } : {}),
        log: (level, msg) => log(level === "debug" ? "debug" : "info", `embedded relay: ${msg}`),
      });
      cleanups.push(() => embeddedRelay!.close());
      // The daemon's own link stays on loopback (the relay listens there too); links name the LAN address.
      relayEndpoint = { endpoint: `127.0.0.1:${embeddedRelay.port}`, tls: false };
      if (binding.lan) {
        lanRelay = { endpoint: `${binding.advertise}:${embeddedRelay.port}`, tls: false };
        embeddedListen = `${embeddedRelay.host.includes(":") ? `[${embeddedRelay.host}]` : embeddedRelay.host}:${embeddedRelay.port}`;
      }
    }

    let link: RelayLink | undefined;
    let statusTimer: ReturnType<typeof setTimeout> | undefined;
    const status = (): DaemonStatusFile => {
      const all = agents.list({ all: true });
      return {
        pid: process.pid,
        startedAt,
        updatedAt: new Date().toISOString(),
        serverId: identity.serverId,
        fingerprint: identity.fingerprint,
        local: { url: `ws://${local.host}:${local.port}` },
        embeddedRelay: embeddedRelay
          ? { url: embeddedRelay.url, ...(lanRelay ? { listen: embeddedListen!, advertised: lanRelay } : {}) }
          : null,
        relay: link?.status ?? null,
        agents: { running: all.filter((a) => a.state === "running").length, total: all.length },
        input: { enabled: input.current.inputEnabled, changedAt: input.current.changedAt },
        audit: { path: audit.path, failure: audit.failure ?? null },
      };
    };
    // Relay state changes are written at once (status must never look green while the path is down);
    // other updates (pongs, agents) are coalesced to at most one write every 200 ms.
    let lastState: string | undefined;
    const writeNow = () =>
      writeStatus(home, status()).catch((err: Error) => log("warn", `could not write status: ${err.message}`));
    const onLinkStatus = (s: RelayLinkStatus) => {
      if (s.state !== lastState) {
        lastState = s.state;
        void writeNow();
      } else scheduleStatus();
    };
    const scheduleStatus = () => {
      statusTimer ??= setTimeout(() => {
        statusTimer = undefined;
        void writeNow();
      }, 200);
    };
    agents.on("agent", scheduleStatus);
    scheduleStatusRef = scheduleStatus;
    if (relayEndpoint) {
      link = new RelayLink({
        relay: relayEndpoint,
        serverId: identity.serverId,
        staticKey: ctx.staticKey,
        backend,
        log,
        onClient,
        onStatus: onLinkStatus,
        pingIntervalMs: options.relayPingIntervalMs,
      });
      link.start();
      cleanups.push(() => link!.stop()); // awaits the relay's close reply: our CLOSEs reached it first
      // Give the first registration a moment so the printed link works at once; a slow relay does not block start.
      await link.firstAttempt(3000);
    }
    await writeNow();
    cleanups.push(() => {
      if (statusTimer) clearTimeout(statusTimer);
    });
    // Cleanups run in reverse: this one runs first. Every client gets an authenticated CLOSE 4110 and its socket
    // closed with 4110 while the relay link, the embedded relay and the local server are all still up; stopping
    // them first made clients see the relay's 4009 (or a bare 4110 without the encrypted CLOSE) instead.
    cleanups.push(() => {
      stopping = true;
      for (const c of connections) c.close(CloseCode.DAEMON_SHUTDOWN);
    });

    let pairing: Pairing | undefined;
    if (relayEndpoint && options.pairOnStart !== false) {
      pairing = await createPairing({
        home,
        backend,
        identity,
        store: offers,
        relay: lanRelay ?? relayEndpoint,
        ownRelay: lanRelay !== undefined,
        label: "daemon start",
        ttlMs: 24 * 3600_000,
      });
    }
    log("info", `daemon ${shortId(identity.serverId)} started (home ${home}, local ws://${local.host}:${local.port})`);

    let closing: Promise<void> | undefined;
    return {
      identity,
      home,
      localUrl: `ws://${local.host}:${local.port}`,
      embeddedRelay,
      lanRelay,
      get relayStatus() {
        return link?.status ?? null;
      },
      pairing,
      agents,
      close(opts = {}) {
        if (!closing) killAgents = opts.killAgents === true;
        closing ??= cleanup().then(() => log("info", `daemon ${shortId(identity.serverId)} stopped`));
        return closing;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
