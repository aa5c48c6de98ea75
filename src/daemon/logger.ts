/**
 * The daemon's logger: readable lines or JSON lines on stderr, with a level threshold. Callers never pass
 * secrets, payloads or offers; serverIds are shortened to a prefix.
 */
import type { LogLevel, Logger } from "../shared/logger.js";
export type { LogLevel, Logger } from "../shared/logger.js";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  options: { level?: LogLevel; json?: boolean; write?: (line: string) => void } = {},
): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  return (level, msg) => {
    if (ORDER[level] < threshold) return;
    const time = new Date().toISOString();
    write(options.json ? `${JSON.stringify({ time, level, msg })}\n` : `${time} ${level.padEnd(5)} ${msg}\n`);
  };
}

export const silentLogger: Logger = () => {};
