/**
 * The Worker relay's settings, from its environment (wrangler.toml [vars]): the same limits as the Node relay
 * (src/protocol/relay/options.ts), validated the same way, as JSON in PASEO_RELAY_LIMITS; and a log level.
 */
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import {
  RelayConfigError,
  type RelayLimitOptions,
  type ResolvedRelayLimits,
  resolveLimits,
} from "../protocol/relay/options.js";
import type { LogLevel, Logger } from "../shared/logger.js";
import type { RelayEnv } from "./workerd.js";

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

function logger(level: string | undefined): Logger {
  const min = LEVELS.indexOf((level as LogLevel | undefined) ?? "warn");
  return (lvl, msg) => {
    if (LEVELS.indexOf(lvl) >= min) console.log(`${lvl} ${msg}`);
  };
}

export function limitsFromEnv(env: RelayEnv, backend: CryptoBackend): ResolvedRelayLimits {
  let options: RelayLimitOptions = {};
  if (env.PASEO_RELAY_LIMITS) {
    try {
      options = JSON.parse(env.PASEO_RELAY_LIMITS) as RelayLimitOptions;
    } catch {
      throw new RelayConfigError(
        'PASEO_RELAY_LIMITS must be a JSON object of relay limits, e.g. {"maxFrameBytes": 1048576}',
      );
    }
  }
  return resolveLimits({ ...options, log: logger(env.PASEO_RELAY_LOG) }, backend);
}
