/** CLI output helpers: data on stdout, messages on stderr, errors as one redacted line with their code. */
import { PaseoError } from "../protocol/errors.js";
import { redact } from "../protocol/redact.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function reportError(err: unknown): void {
  if (err instanceof PaseoError) {
    process.stderr.write(`paseo: ${redact(err.message)} [${err.code}]\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`paseo: ${redact(err.message)}\n`);
  } else {
    process.stderr.write(`paseo: ${redact(String(err))}\n`);
  }
}

/** Render rows as an aligned text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
