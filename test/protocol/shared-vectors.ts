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

/**
 * X25519 public keys whose shared secret is all zero, from the Wycheproof cases (0, 1, the order-8 points, p-1, p,
 * p+1 and their non-canonical aliases), keyed by hex. One source for every low-order-point test.
 */
export function lowOrderPoints(): string[] {
  return [
    ...new Set(
      loadSharedVector<{ testGroups: { tests: { public: string; shared: string }[] }[] }>("wycheproof-x25519.json")
        .testGroups.flatMap((g) => g.tests)
        .filter((t) => t.shared === "00".repeat(32))
        .map((t) => t.public),
    ),
  ];
}
