/** CLI output helpers: data on stdout, messages on stderr, errors as one redacted line with their code. */
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import { redact } from "../protocol/redact.js";
import { cliWording } from "./cli-errors.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * One line on stderr: redacted (no secret), escaped (error messages carry remote text) and in CLI wording
 * (`-a`, `--shell`, not `all: true`), with the stable code for scripts.
 */
export function reportError(err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  const code = err instanceof PaseoError ? ` [${err.code}]` : "";
  process.stderr.write(`paseo: ${escapeControls(cliWording(redact(text)))}${code}\n`);
}

/** Render rows as an aligned text table. Every cell is escaped: tables show remote data. */
export function table(headers: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map(escapeControls));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
