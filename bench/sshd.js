/**
 * A throwaway OpenSSH server on loopback for the terminal bench (section 6): the anchor people use today,
 * `ssh -tt localhost`, run side by side with paseo in the same run.
 *
 * Nothing on the machine is changed: a temp dir holds a fresh host key, a client key, its authorized_keys, a known_hosts
 * entry and an sshd_config; sshd runs in the foreground (`-D`) on a free 127.0.0.1 port with that config only; the
 * client runs with `-F /dev/null` (no ~/.ssh/config, no agent, no control master). The one exception is sshd's
 * compiled-in privilege separation directory /run/sshd: when sshd runs as root and it is missing (no systemd in a
 * container), it is created and removed again at stop — what systemd's ssh.service does with RuntimeDirectory.
 *
 * sshd missing is not an error: findSsh() says why, and the bench prints that the ssh column could not be run.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { sleep, tmpDir, trackPid, untrackPid } from "./lib.js";

const SSHD_CANDIDATES = ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"];
const PRIVSEP_DIR = "/run/sshd";

function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

/**
 * { sshd, ssh, keygen } paths, or { missing: "sentence saying what is missing and how to get it" }.
 * PASEO_BENCH_SSHD=/path/to/sshd picks another sshd; PASEO_BENCH_SSHD=none runs the bench as if it were absent.
 */
export function findSsh() {
  const pick = process.env.PASEO_BENCH_SSHD;
  if (pick === "none") return { missing: "disabled by PASEO_BENCH_SSHD=none" };
  const sshd = pick ? (existsSync(pick) ? pick : null) : (SSHD_CANDIDATES.find((p) => existsSync(p)) ?? which("sshd"));
  const ssh = which("ssh");
  const keygen = which("ssh-keygen");
  const missing = [!sshd && "sshd (openssh-server)", !ssh && "ssh (openssh-client)", !keygen && "ssh-keygen"].filter(
    Boolean,
  );
  if (missing.length)
    return { missing: `${missing.join(", ")} not installed (Debian: apt-get install -y openssh-server)` };
  return { sshd, ssh, keygen };
}

/** A port that was free on 127.0.0.1 a moment ago (sshd binds it next; a lost race is retried by startSshd). */
function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function canConnect(port) {
  return new Promise((res) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

/**
 * Start sshd. Returns { port, dir, sshArgv(remoteCmd, { tty }), pid, stop() }. `sshArgv` is the full client argv
 * (ssh first) for `ssh [-tt] -p PORT 127.0.0.1 <cmd>` with the throwaway identity and known_hosts.
 */
export async function startSshd(tools = findSsh()) {
  if (tools.missing) throw new Error(tools.missing);
  const dir = tmpDir("paseo-bench-sshd-");
  const key = (name) => {
    execFileSync(tools.keygen, ["-q", "-t", "ed25519", "-N", "", "-C", "paseo-bench", "-f", join(dir, name)]);
    return readFileSync(join(dir, `${name}.pub`), "utf8").trim();
  };
  const hostPub = key("host_key");
  writeFileSync(join(dir, "authorized_keys"), `${key("client_key")}\n`, { mode: 0o600 });

  let createdPrivsep = false;
  if (process.getuid?.() === 0 && !existsSync(PRIVSEP_DIR)) {
    mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
    createdPrivsep = true;
  }
  const cleanupPrivsep = () => {
    if (!createdPrivsep) return;
    createdPrivsep = false;
    try {
      rmdirSync(PRIVSEP_DIR);
    } catch {
      // someone else uses it now; leave it
    }
  };
  process.once("exit", cleanupPrivsep);

  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        // The keys live under the system temp dir (world-writable, sticky), which StrictModes would refuse.
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    const proc = spawn(tools.sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    trackPid(proc.pid);
    let err = "";
    proc.stderr.on("data", (d) => (err += d));
    const deadline = Date.now() + 5000;
    let up = false;
    while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await sleep(20);
    }
    if (!up) {
      proc.kill("SIGKILL");
      untrackPid(proc.pid);
      lastErr = new Error(`sshd did not start on 127.0.0.1:${port}: ${err.trim() || "no listener within 5 s"}`);
      continue;
    }
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostPub}\n`);
    const base = [
      tools.ssh,
      "-F",
      "/dev/null",
      "-i",
      join(dir, "client_key"),
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "IdentityAgent=none",
      "-o",
      `UserKnownHostsFile=${join(dir, "known_hosts")}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "ControlMaster=no",
      "-o",
      "ControlPath=none",
      "-o",
      "LogLevel=ERROR",
      "-p",
      String(port),
    ];
    return {
      port,
      dir,
      pid: proc.pid,
      sshArgv: (remoteCmd, { tty = false } = {}) => [...base, ...(tty ? ["-tt"] : []), "127.0.0.1", remoteCmd],
      stderr: () => err,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
          const gone = new Promise((r) => proc.once("exit", r));
          proc.kill("SIGTERM");
          const t = setTimeout(() => proc.kill("SIGKILL"), 2000);
          await gone;
          clearTimeout(t);
        }
        untrackPid(proc.pid);
        cleanupPrivsep();
      },
    };
  }
  cleanupPrivsep();
  throw lastErr;
}
