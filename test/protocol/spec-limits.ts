/**
 * The registry behind spec-conformance.test.ts: every limit and wire constant the code defines, where the spec
 * shows it (docs/protocol.md §10 row, or the section text) and, for RPC parameters, a probe at and just over the
 * limit. unregisteredConstants() lists exported numeric constants of the wire modules that are in neither list, so
 * a new limit cannot be added without being documented.
 */
import * as connectionStreams from "../../src/daemon/connection-streams.js";
import { DAEMON_DEFAULTS } from "../../src/daemon/daemon.js";
import { MAX_ACTIVE_DEVICES } from "../../src/daemon/device-store.js";
import { EXEC_DEFAULT_MAX_OUTPUT, EXEC_DEFAULT_TIMEOUT_MS } from "../../src/daemon/agents/index.js";
import { MAX_RECORD_DATA } from "../../src/daemon/agents/log-file.js";
import * as frame from "../../src/protocol/frame.js";
import * as handshake from "../../src/protocol/handshake.js";
import { MAX_NOISE_MESSAGE, PSK_LEN } from "../../src/protocol/noise/index.js";
import { KEY_LEN } from "../../src/protocol/crypto/backend.js";
import * as relayMux from "../../src/protocol/relay-mux.js";
import * as rpc from "../../src/protocol/rpc.js";
import * as rpcParams from "../../src/protocol/rpc-params.js";
import type { MethodName } from "../../src/protocol/rpc.js";
import * as secureChannel from "../../src/protocol/secure-channel.js";
import { RELAY_DEFAULTS } from "../../src/relay/options.js";

export interface Limit {
  /** The first cell of its docs/protocol.md §10 row. */
  row: string;
  value: number;
  /** Text the row's value cell must contain (derived from `value`). */
  shows: string[];
  /** Where the code defines it. */
  source: string;
  /** RPC parameters: params at the limit (accepted) and just over it (BAD_PARAMS whose message contains `names`). */
  probe?: { method: MethodName; at: Record<string, unknown>; over: Record<string, unknown>; names: string };
}

const n = (v: number) => v.toLocaleString("en-US");
const bytes = (v: number) => (v % (1024 * 1024) === 0 ? `${v / (1024 * 1024)} MiB` : `${n(v)} bytes`);
const secs = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);
const entries = (k: number) => Object.fromEntries(Array.from({ length: k }, (_, i) => [`V${i}`, "x"]));
const s = (k: number) => "x".repeat(k);
const P = "src/protocol/rpc-params.ts";
/** What a cols/rows BAD_PARAMS must name: the whole range, e.g. "[2, 1000]". */
// biome-ignore lint/performance/noDynamicNamespaceImportAccess: test-only lookup of both bounds by axis name
const tty = (d: "COLS" | "ROWS") => `[${rpcParams[`TTY_MIN_${d}`]}, ${rpcParams[`TTY_MAX_${d}`]}]`;

export const LIMITS: Limit[] = [
  {
    row: "active devices per daemon",
    value: MAX_ACTIVE_DEVICES,
    shows: [n(MAX_ACTIVE_DEVICES)],
    source: "src/daemon/device-store.ts MAX_ACTIVE_DEVICES",
  },
  {
    row: "Noise message",
    value: MAX_NOISE_MESSAGE,
    shows: [`${n(MAX_NOISE_MESSAGE)} bytes`],
    source: "src/protocol/noise MAX_NOISE_MESSAGE",
  },
  {
    row: "chunk plaintext",
    value: frame.MAX_CHUNK_PLAINTEXT,
    shows: [`${n(frame.MAX_CHUNK_PLAINTEXT)} bytes`],
    source: "src/protocol/frame.ts MAX_CHUNK_PLAINTEXT",
  },
  {
    row: "application message from a client",
    value: DAEMON_DEFAULTS.maxIncomingMessage,
    shows: [bytes(DAEMON_DEFAULTS.maxIncomingMessage)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.maxIncomingMessage",
  },
  {
    row: "application message to a client",
    value: frame.DEFAULT_MAX_MESSAGE,
    shows: [bytes(frame.DEFAULT_MAX_MESSAGE)],
    source: "src/protocol/frame.ts DEFAULT_MAX_MESSAGE",
  },
  {
    row: "WebSocket frame at the relay",
    value: RELAY_DEFAULTS.maxFrameBytes,
    shows: [bytes(RELAY_DEFAULTS.maxFrameBytes)],
    source: "src/relay/options.ts RELAY_DEFAULTS.maxFrameBytes",
  },
  {
    row: "relay per-socket buffer (hard cap)",
    value: RELAY_DEFAULTS.maxBufferedBytes,
    shows: [bytes(RELAY_DEFAULTS.maxBufferedBytes)],
    source: "src/relay/options.ts RELAY_DEFAULTS.maxBufferedBytes",
  },
  {
    row: "concurrent handshakes per daemon",
    value: DAEMON_DEFAULTS.maxConcurrentHandshakes,
    shows: [String(DAEMON_DEFAULTS.maxConcurrentHandshakes)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.maxConcurrentHandshakes",
  },
  {
    row: "waiting (pre-hello) handshakes per source",
    value: DAEMON_DEFAULTS.maxWaitingHandshakesPerSource,
    shows: [String(DAEMON_DEFAULTS.maxWaitingHandshakesPerSource)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.maxWaitingHandshakesPerSource",
  },
  {
    row: "hello timeout",
    value: DAEMON_DEFAULTS.helloTimeoutMs,
    shows: [secs(DAEMON_DEFAULTS.helloTimeoutMs)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.helloTimeoutMs",
  },
  {
    row: "handshake timeout",
    value: DAEMON_DEFAULTS.handshakeTimeoutMs,
    shows: [secs(DAEMON_DEFAULTS.handshakeTimeoutMs)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.handshakeTimeoutMs",
  },
  {
    row: "idle connection without subscriptions",
    value: DAEMON_DEFAULTS.idleTimeoutMs,
    shows: [secs(DAEMON_DEFAULTS.idleTimeoutMs)],
    source: "src/daemon/daemon.ts DAEMON_DEFAULTS.idleTimeoutMs",
  },
  {
    row: "log subscriptions per connection (terminal attachments included)",
    value: connectionStreams.MAX_SUBSCRIPTIONS,
    shows: [String(connectionStreams.MAX_SUBSCRIPTIONS)],
    source: "src/daemon/connection-streams.ts MAX_SUBSCRIPTIONS",
  },
  {
    row: "handshake payload (early data, welcome)",
    value: handshake.MAX_HANDSHAKE_PAYLOAD,
    shows: [`${n(handshake.MAX_HANDSHAKE_PAYLOAD)} bytes`, `${n(handshake.MAX_HANDSHAKE_PAYLOAD - 6)} bytes`],
    source: "src/protocol/handshake.ts MAX_HANDSHAKE_PAYLOAD",
  },
  {
    row: "STREAM message",
    value: MAX_RECORD_DATA,
    shows: [bytes(MAX_RECORD_DATA)],
    source: "src/daemon/agents/log-file.ts MAX_RECORD_DATA",
  },
  {
    row: "close reason",
    value: relayMux.MAX_CLOSE_REASON_BYTES,
    shows: [`${relayMux.MAX_CLOSE_REASON_BYTES} bytes`],
    source: "src/protocol/relay-mux.ts MAX_CLOSE_REASON_BYTES",
  },
  {
    row: "rekey interval",
    value: secureChannel.REKEY_INTERVAL,
    shows: [n(secureChannel.REKEY_INTERVAL)],
    source: "src/protocol/secure-channel.ts REKEY_INTERVAL",
  },
  { row: "request `id`", value: rpc.MAX_ID - 1, shows: [n(rpc.MAX_ID - 1)], source: "src/protocol/rpc.ts MAX_ID" },
  { row: "RPC method name", value: 64, shows: ["64 characters"], source: "src/protocol/rpc.ts decodeControl" },
  {
    row: "log subscription `sub`",
    value: rpcParams.MAX_SUB,
    shows: [n(rpcParams.MAX_SUB)],
    source: `${P} MAX_SUB`,
    probe: {
      method: "agents.unsubscribe",
      at: { sub: rpcParams.MAX_SUB },
      over: { sub: rpcParams.MAX_SUB + 1 },
      names: String(rpcParams.MAX_SUB),
    },
  },
  {
    row: "`argv`",
    value: rpcParams.MAX_ARGV,
    shows: [`${rpcParams.MAX_ARGV} entries`],
    source: `${P} MAX_ARGV`,
    probe: {
      method: "exec",
      at: { argv: Array(rpcParams.MAX_ARGV).fill("x") },
      over: { argv: Array(rpcParams.MAX_ARGV + 1).fill("x") },
      names: String(rpcParams.MAX_ARGV),
    },
  },
  {
    row: "one `argv` entry",
    value: rpcParams.MAX_ARG_LEN,
    shows: [`${n(rpcParams.MAX_ARG_LEN)} characters`],
    source: `${P} MAX_ARG_LEN`,
    probe: {
      method: "agents.run",
      at: { argv: ["x", s(rpcParams.MAX_ARG_LEN)] },
      over: { argv: ["x", s(rpcParams.MAX_ARG_LEN + 1)] },
      names: String(rpcParams.MAX_ARG_LEN),
    },
  },
  {
    row: "`env`",
    value: rpcParams.MAX_ENV,
    shows: [`${rpcParams.MAX_ENV} entries`],
    source: `${P} MAX_ENV`,
    probe: {
      method: "exec",
      at: { argv: ["x"], env: entries(rpcParams.MAX_ENV) },
      over: { argv: ["x"], env: entries(rpcParams.MAX_ENV + 1) },
      names: String(rpcParams.MAX_ENV),
    },
  },
  {
    row: "`cwd`",
    value: 4096,
    shows: ["4,096 characters"],
    source: `${P} str(p, "cwd")`,
    probe: { method: "exec", at: { argv: ["x"], cwd: s(4096) }, over: { argv: ["x"], cwd: s(4097) }, names: "4096" },
  },
  {
    row: "agent `name`",
    value: 128,
    shows: ["128 characters"],
    source: `${P} str(p, "name")`,
    probe: {
      method: "agents.run",
      at: { argv: ["x"], name: s(128) },
      over: { argv: ["x"], name: s(129) },
      names: "128",
    },
  },
  {
    row: "agent `id` parameter",
    value: 64,
    shows: ["64 characters"],
    source: `${P} str(p, "id")`,
    probe: { method: "agents.get", at: { id: s(64) }, over: { id: s(65) }, names: "64" },
  },
  {
    row: "`dataB64`",
    value: 4 * 1024 * 1024,
    shows: ["4,194,304 characters"],
    source: `${P} str(p, "dataB64")`,
    probe: {
      method: "agents.input",
      at: { id: "a", dataB64: s(4 * 1024 * 1024) },
      over: { id: "a", dataB64: s(4 * 1024 * 1024 + 1) },
      names: "4194304",
    },
  },
  {
    row: "`graceMs`",
    value: rpcParams.MAX_GRACE_MS,
    shows: [`${n(rpcParams.MAX_GRACE_MS)} ms`],
    source: `${P} MAX_GRACE_MS`,
    probe: {
      method: "agents.stop",
      at: { id: "a", graceMs: rpcParams.MAX_GRACE_MS },
      over: { id: "a", graceMs: rpcParams.MAX_GRACE_MS + 1 },
      names: String(rpcParams.MAX_GRACE_MS),
    },
  },
  {
    row: "exec `timeoutMs`",
    value: rpcParams.EXEC_MAX_TIMEOUT_MS,
    shows: [`${n(rpcParams.EXEC_MAX_TIMEOUT_MS)} ms`, `default ${n(EXEC_DEFAULT_TIMEOUT_MS)}`],
    source: `${P} EXEC_MAX_TIMEOUT_MS`,
    probe: {
      method: "exec",
      at: { argv: ["x"], timeoutMs: rpcParams.EXEC_MAX_TIMEOUT_MS },
      over: { argv: ["x"], timeoutMs: rpcParams.EXEC_MAX_TIMEOUT_MS + 1 },
      names: String(rpcParams.EXEC_MAX_TIMEOUT_MS),
    },
  },
  {
    row: "exec `maxOutputBytes`",
    value: rpcParams.EXEC_MAX_OUTPUT,
    shows: [`${n(rpcParams.EXEC_MAX_OUTPUT)} bytes`, `default ${n(EXEC_DEFAULT_MAX_OUTPUT)}`],
    source: `${P} EXEC_MAX_OUTPUT`,
    probe: {
      method: "exec",
      at: { argv: ["x"], maxOutputBytes: rpcParams.EXEC_MAX_OUTPUT },
      over: { argv: ["x"], maxOutputBytes: rpcParams.EXEC_MAX_OUTPUT + 1 },
      names: String(rpcParams.EXEC_MAX_OUTPUT),
    },
  },
  {
    row: "terminal `cols`",
    value: rpcParams.TTY_MAX_COLS,
    shows: [`${n(rpcParams.TTY_MIN_COLS)} … ${n(rpcParams.TTY_MAX_COLS)}`],
    source: `${P} TTY_MAX_COLS`,
    probe: {
      method: "agents.run",
      at: { argv: ["x"], tty: true, cols: rpcParams.TTY_MAX_COLS, rows: 24 },
      over: { argv: ["x"], tty: true, cols: rpcParams.TTY_MAX_COLS + 1, rows: 24 },
      names: tty("COLS"),
    },
  },
  {
    row: "terminal `cols`",
    value: rpcParams.TTY_MIN_COLS,
    shows: [`${n(rpcParams.TTY_MIN_COLS)} … `],
    source: `${P} TTY_MIN_COLS`,
    probe: {
      method: "terminal.attach",
      at: { id: "a", sub: 1, cols: rpcParams.TTY_MIN_COLS, rows: 24 },
      over: { id: "a", sub: 1, cols: rpcParams.TTY_MIN_COLS - 1, rows: 24 },
      names: tty("COLS"),
    },
  },
  {
    row: "terminal `cols`",
    value: rpcParams.TTY_DEFAULT_COLS,
    shows: [`default ${n(rpcParams.TTY_DEFAULT_COLS)}`],
    source: `${P} TTY_DEFAULT_COLS`,
  },
  {
    row: "terminal `rows`",
    value: rpcParams.TTY_MAX_ROWS,
    shows: [`${n(rpcParams.TTY_MIN_ROWS)} … ${n(rpcParams.TTY_MAX_ROWS)}`],
    source: `${P} TTY_MAX_ROWS`,
    probe: {
      method: "terminal.resize",
      at: { id: "a", cols: 80, rows: rpcParams.TTY_MAX_ROWS },
      over: { id: "a", cols: 80, rows: rpcParams.TTY_MAX_ROWS + 1 },
      names: tty("ROWS"),
    },
  },
  {
    row: "terminal `rows`",
    value: rpcParams.TTY_MIN_ROWS,
    shows: [`${n(rpcParams.TTY_MIN_ROWS)} … `],
    source: `${P} TTY_MIN_ROWS`,
    probe: {
      method: "agents.run",
      at: { argv: ["x"], tty: true, cols: 80, rows: rpcParams.TTY_MIN_ROWS },
      over: { argv: ["x"], tty: true, cols: 80, rows: rpcParams.TTY_MIN_ROWS - 1 },
      names: tty("ROWS"),
    },
  },
  {
    row: "terminal `rows`",
    value: rpcParams.TTY_DEFAULT_ROWS,
    shows: [`default ${n(rpcParams.TTY_DEFAULT_ROWS)}`],
    source: `${P} TTY_DEFAULT_ROWS`,
  },
  // Checked by the daemon after decoding (INPUT_TOO_LARGE / INPUT_RATE_LIMITED), not by validateParams: no probe;
  // test/daemon covers the enforcement.
  {
    row: "terminal input per message (`terminal.input`, decoded)",
    value: rpcParams.TERMINAL_INPUT_MAX_BYTES,
    shows: [`${n(rpcParams.TERMINAL_INPUT_MAX_BYTES)} bytes`],
    source: `${P} TERMINAL_INPUT_MAX_BYTES`,
  },
  {
    row: "terminal input messages per connection",
    value: rpcParams.TERMINAL_INPUT_RATE,
    shows: [`${rpcParams.TERMINAL_INPUT_RATE} per s`],
    source: `${P} TERMINAL_INPUT_RATE`,
  },
  {
    row: "terminal input messages per connection",
    value: rpcParams.TERMINAL_INPUT_BURST,
    shows: [`bursts of ${rpcParams.TERMINAL_INPUT_BURST}`],
    source: `${P} TERMINAL_INPUT_BURST`,
  },
  {
    row: "clients per daemon at the relay",
    value: RELAY_DEFAULTS.maxClientsPerDaemon,
    shows: [n(RELAY_DEFAULTS.maxClientsPerDaemon)],
    source: "src/relay/options.ts RELAY_DEFAULTS.maxClientsPerDaemon",
  },
  {
    row: "client idle at the relay",
    value: RELAY_DEFAULTS.idleTimeoutMs,
    shows: [secs(RELAY_DEFAULTS.idleTimeoutMs)],
    source: "src/relay/options.ts RELAY_DEFAULTS.idleTimeoutMs",
  },
  {
    row: "daemon registration at the relay",
    value: RELAY_DEFAULTS.authTimeoutMs,
    shows: [secs(RELAY_DEFAULTS.authTimeoutMs)],
    source: "src/relay/options.ts RELAY_DEFAULTS.authTimeoutMs",
  },
  {
    row: "daemon-offline grace at the relay",
    value: RELAY_DEFAULTS.offlineGraceMs,
    shows: [`${RELAY_DEFAULTS.offlineGraceMs} ms`],
    source: "src/relay/options.ts RELAY_DEFAULTS.offlineGraceMs",
  },
  {
    row: "per-IP connections / rate at the relay",
    value: RELAY_DEFAULTS.perIpMaxConnections,
    shows: [`${RELAY_DEFAULTS.perIpMaxConnections} / ${RELAY_DEFAULTS.perIpRatePerSecond} per s`],
    source: "src/relay/options.ts RELAY_DEFAULTS.perIpMaxConnections",
  },
  {
    row: "per-IP connections / rate at the relay",
    value: RELAY_DEFAULTS.perIpRatePerSecond,
    shows: [`${RELAY_DEFAULTS.perIpRatePerSecond} per s`],
    source: "src/relay/options.ts RELAY_DEFAULTS.perIpRatePerSecond",
  },
  {
    row: "first message of a client leg at the relay",
    value: RELAY_DEFAULTS.firstMessageTimeoutMs,
    shows: [secs(RELAY_DEFAULTS.firstMessageTimeoutMs)],
    source: "src/relay/options.ts RELAY_DEFAULTS.firstMessageTimeoutMs",
  },
  {
    row: "silent client legs per IP per serverId at the relay",
    value: RELAY_DEFAULTS.perIpPendingClients,
    shows: [String(RELAY_DEFAULTS.perIpPendingClients)],
    source: "src/relay/options.ts RELAY_DEFAULTS.perIpPendingClients",
  },
  {
    row: "pre-upgrade HTTP connections per IP at the relay",
    value: RELAY_DEFAULTS.perIpHttpConnections,
    shows: [String(RELAY_DEFAULTS.perIpHttpConnections)],
    source: "src/relay/options.ts RELAY_DEFAULTS.perIpHttpConnections",
  },
  {
    row: "request headers at the relay",
    value: RELAY_DEFAULTS.headersTimeoutMs,
    shows: [secs(RELAY_DEFAULTS.headersTimeoutMs)],
    source: "src/relay/options.ts RELAY_DEFAULTS.headersTimeoutMs",
  },
  {
    row: "relay ping interval",
    value: RELAY_DEFAULTS.pingIntervalMs,
    shows: [secs(RELAY_DEFAULTS.pingIntervalMs)],
    source: "src/relay/options.ts RELAY_DEFAULTS.pingIntervalMs",
  },
];

/** Constants that are not limits but are on the wire: the section text that must show them. */
export const WIRE_CONSTANTS: { name: string; value: number; source: string; section: number; text: string }[] = [
  {
    name: "FLAG_FIRST",
    value: frame.FLAG_FIRST,
    source: "src/protocol/frame.ts FLAG_FIRST",
    section: 7,
    text: "0x01 FIRST",
  },
  {
    name: "FLAG_LAST",
    value: frame.FLAG_LAST,
    source: "src/protocol/frame.ts FLAG_LAST",
    section: 7,
    text: "0x02 LAST",
  },
  {
    name: "HELLO_VERSION",
    value: handshake.HELLO_VERSION,
    source: "src/protocol/handshake.ts HELLO_VERSION",
    section: 6,
    text: "0x01 (version)",
  },
  {
    name: "OFFER_ID_LEN",
    value: handshake.OFFER_ID_LEN,
    source: "src/protocol/handshake.ts OFFER_ID_LEN",
    section: 6,
    text: `offerId (${handshake.OFFER_ID_LEN})`,
  },
  {
    name: "PSK_LEN",
    value: PSK_LEN,
    source: "src/protocol/noise/handshake-state.ts PSK_LEN",
    section: 6,
    text: `${PSK_LEN}-byte pairing secret`,
  },
  {
    name: "KEY_LEN",
    value: KEY_LEN,
    source: "src/protocol/crypto/backend.ts KEY_LEN",
    section: 5,
    text: `E_r (${KEY_LEN})`,
  },
  {
    name: "CHALLENGE_NONCE_BYTES",
    value: relayMux.CHALLENGE_NONCE_BYTES,
    source: "src/protocol/relay-mux.ts CHALLENGE_NONCE_BYTES",
    section: 5,
    text: `nonce (${relayMux.CHALLENGE_NONCE_BYTES})`,
  },
  {
    name: "MAC_BYTES",
    value: relayMux.MAC_BYTES,
    source: "src/protocol/relay-mux.ts MAC_BYTES",
    section: 5,
    text: `mac (${relayMux.MAC_BYTES})`,
  },
  {
    name: "CLIENT_HEADER_BYTES",
    value: relayMux.CLIENT_HEADER_BYTES,
    source: "src/protocol/relay-mux.ts CLIENT_HEADER_BYTES",
    section: 5,
    text: "`0x11 ‖ clientId u32 ‖ payload`",
  },
  {
    name: "SOURCE_TAG_BYTES",
    value: relayMux.SOURCE_TAG_BYTES,
    source: "src/protocol/relay-mux.ts SOURCE_TAG_BYTES",
    section: 5,
    text: `source (${relayMux.SOURCE_TAG_BYTES})`,
  },
  {
    name: "MUX_VERSION_TAGGED",
    value: relayMux.MUX_VERSION_TAGGED,
    source: "src/protocol/relay-mux.ts MUX_VERSION_TAGGED",
    section: 5,
    text: `mux=${relayMux.MUX_VERSION_TAGGED}`,
  },
  {
    name: "MAX_CLIENT_ID",
    value: relayMux.MAX_CLIENT_ID,
    source: "src/protocol/relay-mux.ts MAX_CLIENT_ID",
    section: 5,
    text: "clientId u32",
  },
];

/** Modules whose exported numbers are wire constants or limits; and defaults objects whose keys are limits. */
const MODULES: [string, Record<string, unknown>][] = [
  ["src/protocol/rpc-params.ts", rpcParams],
  ["src/protocol/rpc.ts", rpc],
  ["src/protocol/frame.ts", frame],
  ["src/protocol/handshake.ts", handshake],
  ["src/protocol/secure-channel.ts", secureChannel],
  ["src/protocol/relay-mux.ts", relayMux],
  ["src/daemon/connection-streams.ts", connectionStreams],
];
const DEFAULTS: [string, Record<string, unknown>, string[]][] = [
  ["src/relay/options.ts RELAY_DEFAULTS", RELAY_DEFAULTS, ["host", "port"]],
  ["src/daemon/daemon.ts DAEMON_DEFAULTS", DAEMON_DEFAULTS, []],
];

export async function unregisteredConstants(): Promise<string[]> {
  const registered = new Set([...LIMITS.map((l) => l.source), ...WIRE_CONSTANTS.map((c) => c.source)]);
  const problems: string[] = [];
  const hint = "document it in docs/protocol.md (§10 for a limit) and register it in test/protocol/spec-limits.ts";
  for (const [file, mod] of MODULES) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === "number" && !registered.has(`${file} ${name}`))
        problems.push(`${file} exports ${name} = ${value}: ${hint}`);
    }
  }
  for (const [where, obj, notLimits] of DEFAULTS) {
    for (const key of Object.keys(obj)) {
      if (!notLimits.includes(key) && !registered.has(`${where}.${key}`))
        problems.push(`${where}.${key} = ${String(obj[key])}: ${hint}`);
    }
  }
  return problems;
}
