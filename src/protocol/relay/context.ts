/**
 * What every relay session shares: resolved options, metrics, the routing table and the logger. Passed explicitly
 * (no module-level state) so several relays can run in one process, as the tests do.
 */
import type { RelayMetrics } from "./metrics.js";
import type { LogLevel } from "../../shared/logger.js";
import type { ResolvedRelayLimits } from "./options.js";
import type { Peer } from "./peer.js";
import type { PendingClients } from "./pending-clients.js";
import type { Router } from "./router.js";

export interface RelayContext {
  readonly opts: ResolvedRelayLimits;
  readonly metrics: RelayMetrics;
  readonly router: Router;
  /** Client legs that have not spoken yet, per source and serverId. */
  readonly pending: PendingClients;
  log(level: LogLevel, message: string): void;
}

/** A daemon or client session as seen by keepalive and shutdown. */
export interface Session {
  readonly peer: Peer;
  /** The relay ends this session with `code` (4000–4099), telling the other side at once. */
  closeFromRelay(code: number, reason?: string): void;
}
