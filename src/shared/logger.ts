/**
 * The one logger shape, used by the daemon, its agents and the relay. Type-only, so any layer may import it.
 * Callers never pass secrets, payloads or offers.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = (level: LogLevel, msg: string) => void;
