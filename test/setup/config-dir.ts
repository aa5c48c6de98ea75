/**
 * vitest globalSetup: every test run gets its own client config directory (PASEO_CONFIG: hosts.json with device
 * keys), inherited by the workers and every CLI process they spawn, so no test ever reads or writes the real
 * ~/.config/paseo. Removed after the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "paseo-test-config-"));
  process.env.PASEO_CONFIG = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
