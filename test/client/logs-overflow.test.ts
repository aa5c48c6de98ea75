/** A consumer far behind a fast agent: the client caps its queue, resubscribes from disk, and loses nothing. */
import { afterEach, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/daemon/logger.js";
import { readLocalOffer } from "../../src/daemon/runtime-files.js";
import { DaemonClient } from "../../src/index.js";
import { QUEUE_HIGH_BYTES } from "../../src/client/logs.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it("a slow log consumer gets every byte exactly once while client memory stays bounded", async () => {
  const home = mkdtempSync(join(tmpdir(), "paseo-overflow-"));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const daemon = await startDaemon({ home, relay: null, log: silentLogger, pairOnStart: false });
  cleanups.push(() => daemon.close());
  const client = new DaemonClient({ offer: (await readLocalOffer(home))! });
  cleanups.push(() => client.close());
  // 12 MiB of deterministic output, written as fast as the pipe allows.
  const script = "for(let i=0;i<192;i++){process.stdout.write(Buffer.alloc(65536,i%251))}";
  const agent = await client.runAgent({ argv: [process.execPath, "-e", script] });
  const expected = createHash("sha256");
  for (let i = 0; i < 192; i++) expected.update(Buffer.alloc(65536, i % 251));

  const got = createHash("sha256");
  let total = 0;
  let last = 0;
  for await (const chunk of client.logs(agent.id, { follow: true })) {
    if (total === 0) await new Promise((r) => setTimeout(r, 1500)); // fall far behind: > QUEUE_HIGH_BYTES queued
    expect(chunk.seq).toBe(last + 1);
    last = chunk.seq;
    got.update(chunk.data);
    total += chunk.data.length;
  }
  expect(total).toBe(192 * 65536);
  expect(total).toBeGreaterThan(QUEUE_HIGH_BYTES);
  expect(got.digest("hex")).toBe(expected.digest("hex"));
});
