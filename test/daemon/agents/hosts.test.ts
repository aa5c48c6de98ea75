/** Agent hosts: private sockets, the short-path fallback, a daemon that reads slower than the agent writes. */
import { readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PtySession } from "../../../src/daemon/agents/pty-session.js";
import {
  cleanup,
  expectContiguous,
  isAlive,
  newManager,
  readAll,
  sha256,
  tempDir,
  textOf,
  waitFor,
} from "./helpers.js";

afterEach(cleanup);

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

function meta(dir: string, id: string): { host: { pid: number; socket: string } } {
  return JSON.parse(readFileSync(join(dir, id, "meta.json"), "utf8"));
}

describe("agent hosts", () => {
  it("listen on a 0600 socket inside the agent's 0700 directory; the host is its own session", async () => {
    const dir = join(await tempDir(), "agents");
    const m = await newManager({ dir });
    const a = await m.run({ argv: ["sleep", "30"], tty: true });
    const { host } = meta(dir, a.id);
    expect(host.socket).toBe(join(dir, a.id, "host.sock"));
    const st = statSync(host.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, a.id)).mode & 0o777).toBe(0o700);
    // Own session and process group (setsid): the daemon's terminal and group signals do not reach it.
    const fields = readFileSync(`/proc/${host.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    expect(Number(fields[2])).toBe(host.pid); // pgrp
    expect(Number(fields[3])).toBe(host.pid); // session
    expect(readFileSync(`/proc/${host.pid}/cmdline`, "utf8")).toContain(`paseo-host ${join(dir, a.id)}`);
    await m.stop(a.id, 500);
    await waitFor(async () => !(await isAlive(host.pid)), 10_000, "the host to exit after its agent");
  });

  it("a home too deep for a unix socket path falls back to a short private directory", async () => {
    const deep = join(await tempDir(), "d".repeat(60), "e".repeat(60), "agents");
    await mkdir(deep, { recursive: true });
    const m = await newManager({ dir: deep });
    const a = await m.run({ argv: ["sh", "-c", "echo deep; sleep 30"] });
    const { host } = meta(deep, a.id);
    expect(Buffer.byteLength(host.socket)).toBeLessThanOrEqual(100);
    expect(host.socket).toMatch(new RegExp(`/paseo(-\\d+)?/${a.id}-[0-9a-f]{8}\\.sock$`));
    expect(statSync(host.socket).mode & 0o777).toBe(0o600);
    const parent = statSync(join(host.socket, ".."));
    expect(parent.mode & 0o777).toBe(0o700);
    await waitFor(
      async () => Buffer.concat((await readAll(m, a.id)).map((c) => c.data)).toString() === "deep\n",
      10_000,
      "output",
    );
    // Re-adopted through the recorded path.
    await m.close();
    const m2 = await newManager({ dir: deep });
    expect(m2.get(a.id)).toMatchObject({ state: "running", pid: a.pid });
    await m2.stop(a.id, 500);
  });

  it("stop() of an agent whose host hangs (SIGSTOP) still ends it: program and host are killed after grace + 5 s", async () => {
    const dir = join(await tempDir(), "agents");
    const m = await newManager({ dir });
    const a = await m.run({ argv: ["sleep", "60"] });
    const { host } = meta(dir, a.id);
    process.kill(host.pid, "SIGSTOP");
    const t = Date.now();
    const info = await m.stop(a.id, 100);
    expect(Date.now() - t).toBeLessThan(9000);
    expect(info.state).not.toBe("running");
    expect(await isAlive(a.pid!)).toBe(false);
    await waitFor(async () => !(await isAlive(host.pid)), 5000, "the hung host to be gone");
  }, 20_000);

  it("a terminal's input is handed to its host without waiting for an answer; a pipe agent's input still waits for its host", async () => {
    // Keystrokes must not cost a host round trip (docs/agent-hosts.md, INPUT id 0): with the host stopped, the
    // terminal's input is still accepted at once and reaches the program once the host runs again. Before, the
    // daemon waited for the host's answer, so this input hung until SIGCONT.
    const dir = join(await tempDir(), "agents");
    const m = await newManager({ dir });
    const t = await m.run({ argv: ["cat"], tty: true });
    const p = await m.run({ argv: ["cat"] });
    const th = meta(dir, t.id).host;
    const ph = meta(dir, p.id).host;
    process.kill(th.pid, "SIGSTOP");
    process.kill(ph.pid, "SIGSTOP");
    try {
      const quick = (x: Promise<number>) =>
        Promise.race([x, new Promise<string>((r) => setTimeout(() => r("waiting"), 1000))]);
      expect(await quick(m.sendInput(t.id, Buffer.from("typed-while-stopped\r")))).toBe(20);
      const piped = m.sendInput(p.id, Buffer.from("piped\n"));
      expect(await quick(piped)).toBe("waiting"); // stdin's acceptance is the answer: still waited for
      process.kill(ph.pid, "SIGCONT");
      expect(await piped).toBe(6);
    } finally {
      process.kill(th.pid, "SIGCONT");
      process.kill(ph.pid, "SIGCONT");
    }
    await waitFor(async () => textOf(await readAll(m, t.id)).includes("typed-while-stopped"), 10_000, "the echo");
    await waitFor(async () => textOf(await readAll(m, p.id)) === "piped\n", 10_000, "the pipe's output");
    await m.stop(t.id, 500);
    await m.stop(p.id, 500);
  }, 30_000);

  it("a daemon reading slower than the agent writes still gets every byte once (host skips live records, daemon reads the disk)", async () => {
    const m = await newManager();
    const size = 24 << 20;
    const a = await m.run({ argv: ["sh", "-c", `head -c ${size} /dev/zero | tr '\\0' 'x'`] });
    let n = 0;
    let got = 0;
    let next = 1;
    const ended = new Promise<void>((res, rej) => {
      m.subscribe(
        a.id,
        1,
        (c) => {
          if (c.seq !== next++) rej(new Error(`seq ${c.seq}, expected ${next - 1}`));
          got += c.data.length;
          if (++n % 20 === 0) busyWait(30); // a busy daemon: the host's socket backs up
        },
        () => res(),
        rej,
      );
    });
    await ended;
    expect(got).toBe(size);
    const chunks = await readAll(m, a.id);
    expectContiguous(chunks);
    expect(sha256(Buffer.concat(chunks.map((c) => c.data)))).toBe(sha256(Buffer.alloc(size, "x")));
    expect(m.get(a.id)).toMatchObject({ state: "exited", exitCode: 0, bytes: size });
  }, 60_000);

  it("PtySession (the host's PTY reader) drains to EIO before reporting the exit, even when it reads slowly", async () => {
    // In-process, so the reader itself is slow: without the drain, the tail of the burst was lost (~2 KB of 6 MB).
    const pattern = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
    const size = 6 << 20;
    for (let run = 0; run < 3; run++) {
      const parts: Uint8Array[] = [];
      let n = 0;
      const s = PtySession.spawn(
        {
          argv: [
            "bash",
            "-c",
            `python3 -c "import sys; sys.stdout.write('${pattern}'*${size / pattern.length})" | cat`,
          ],
          cwd: "/",
          env: { ...(process.env as Record<string, string>), TERM: "xterm-256color" },
          cols: 80,
          rows: 24,
        },
        (d) => {
          parts.push(new Uint8Array(d));
          if (++n % 40 === 0) busyWait(25);
        },
      );
      const status = await s.done;
      expect(status).toEqual({ code: 0, signal: null });
      const all = Buffer.concat(parts);
      expect(all.length, `run ${run}`).toBe(size);
      expect(sha256(all)).toBe(sha256(pattern.repeat(size / pattern.length)));
    }
  }, 60_000);
});

describe("a program that ends before the daemon's first connection", () => {
  it("its host waits for that connection and reports the exit in its hello (no ENOENT for the daemon that started it)", async () => {
    const { startHost } = await import("../../../src/daemon/agents/host/spawn-host.js");
    const { FrameDecoder, encodeJson, KIND_JSON } = await import("../../../src/daemon/agents/host/frames.js");
    const { createConnection } = await import("node:net");
    const dir = join(await tempDir(), "agents", "quickxit");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const socket = join(dir, "host.sock");
    const started = await startHost(
      { v: 1, id: "quickxit", dir, socket, argv: ["true"], cwd: "/", shell: false, tty: null },
      async () => undefined,
    );
    // `true` is over long before we connect: a loaded daemon is this slow to get to its first connect.
    await waitFor(async () => !(await isAlive(started.agentPid)), 5_000, "the program to exit");
    await new Promise((r) => setTimeout(r, 500));
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const sock = createConnection(socket);
      const decoder = new FrameDecoder();
      sock.on("error", reject);
      sock.on("data", (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) {
          if (f.kind !== KIND_JSON) continue;
          sock.end(encodeJson({ t: "bye" }));
          resolve(f.msg);
        }
      });
    });
    expect(hello.t).toBe("hello");
    expect(hello.ended).toMatchObject({ code: 0, signal: null });
    await waitFor(async () => !(await isAlive(started.host.pid)), 10_000, "the host to leave after the daemon's bye");
  });
});
