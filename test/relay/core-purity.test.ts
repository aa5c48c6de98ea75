/**
 * The relay core (src/protocol/relay) runs on Node and on workerd, so it may import neither `ws` nor Node built-ins
 * (nor anything that does); the Worker (src/relay-worker) bundles it for workerd. A violation names the file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");

function imports(dir: string): Array<[string, string]> {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [
        ...readFileSync(join(ROOT, dir, f), "utf8").matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm),
      ].map((m): [string, string] => [`${dir}/${f}`, m[1]!]),
    );
}

describe("relay core purity", () => {
  it.each(["src/protocol/relay", "src/relay-worker"])(
    "%s imports no ws, no node:*, and nothing from src/relay",
    (dir) => {
      const bad = imports(dir).filter(
        ([, spec]) =>
          spec === "ws" || spec.startsWith("node:") || spec.includes("/relay/server") || /^\.\.\/relay\//.test(spec),
      );
      expect(bad).toEqual([]);
    },
  );
});
