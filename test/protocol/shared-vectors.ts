/**
 * Loads third-party test vectors from ../shared/vectors (relative to the project root). Missing files fail the
 * suite loudly: a silently skipped vector file would make the conformance tests pass while testing nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function loadSharedVector<T = unknown>(file: string): T {
  const candidates = [
    path.resolve(process.cwd(), "../shared/vectors", file),
    path.resolve(repoRoot, "../shared/vectors", file),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`test vector file ${file} not found; looked in:\n  ${candidates.join("\n  ")}`);
  return JSON.parse(readFileSync(found, "utf8")) as T;
}
