/**
 * paseo relay: routes end-to-end encrypted frames between daemons and clients by serverId (docs/protocol.md §5).
 * `startRelay()` runs one in-process; `paseo relay` runs one from the command line.
 */
export { startRelay, type Relay } from "./server.js";
export {
  RELAY_DEFAULTS,
  RelayConfigError,
  type LogLevel,
  type Logger,
  type RelayOptions,
} from "./options.js";
export type { RelayStats } from "../protocol/relay/metrics.js";
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from "./static.js";
