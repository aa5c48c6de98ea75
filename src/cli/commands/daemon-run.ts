/** `paseo daemon start | stop | status`. start runs in the foreground until SIGINT/SIGTERM. */
import { join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseRelayEndpoint, type RelayEndpoint } from "../../protocol/relay-url.js";
import { ensureHome, isProcessAlive, loadConfig, resolveHome, saveConfig } from "../../daemon/home.js";
import { assertSafeHome } from "../../daemon/home-safety.js";
import { createLogger, type LogLevel } from "../../daemon/logger.js";
import { readPid, readStatus } from "../../daemon/runtime-files.js";
import { INPUT_ON_HINT, readInputFile } from "../../daemon/input-switch.js";
import { DeviceStore } from "../../daemon/device-store.js";
import { escapeControls } from "../../protocol/escape.js";
import { NO_APP_URL_HINT, hasNoAppUrl } from "../../daemon/pairing.js";
import { isLoopbackRelayHost, resolveRelayHost } from "../../daemon/relay-host.js";
import { parseAppUrl, saveAppUrl } from "../app-url.js";
import { QR_SKIPPED_NOTE, type QrChoice, renderQr, shouldPrintQr } from "../qr.js";
import { info, printJson } from "../output.js";

function parseListen(text: string): { host: string; port: number } {
  const m = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError("expected a loopback address like 127.0.0.1:7432");
  return { host: m[1] === "localhost" ? "127.0.0.1" : m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) throw new InvalidArgumentError("expected a port number (0–65535)");
  return n;
}

function parseRelay(text: string): RelayEndpoint {
  try {
    return parseRelayEndpoint(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerDaemonRunCommands(d: Command): void {
  d.command("start")
    .description(
      "run the daemon in the foreground (starts an embedded relay, on loopback unless --relay-host, when none is configured)",
    )
    .option("--home <dir>", "PASEO_HOME (default: $PASEO_HOME or ~/.paseo)")
    .option("--relay <url>", "relay to register with, e.g. wss://relay.example.com (saved to config.json)", parseRelay)
    .option("--no-relay", "local only: no relay connection")
    .option(
      "--app-url <url>",
      "where pairing links point: a static host serving the app (dist/web) that you trust (saved to config.json)",
      parseAppUrl,
    )
    .option("--listen <addr>", "loopback address of the local server", parseListen)
    .option(
      "--relay-port <port>",
      "port of the embedded relay (default 7431; saved to config.json unless 0 = any free port)",
      parsePort,
    )
    .option(
      "--relay-host <host>",
      "where the embedded relay listens: 0.0.0.0 (every interface), an interface name (eth0, wlan0) or an address; " +
        "links then use the LAN address so a phone on the same network can open them (saved to config.json; " +
        "127.0.0.1 = back to loopback only)",
    )
    .option(
      "--relay-advertise <host>",
      "with --relay-host: the host name or address links give other devices instead of the interface's address (saved)",
    )
    .addOption(
      new Option("--log-level <level>", "log verbosity").choices(["debug", "info", "warn", "error"]).default("info"),
    )
    .option("--json-logs", "log as JSON lines")
    .option(
      "--qr",
      "print the link's QR code even when the relay is on loopback (default: only when another device can open it)",
    )
    .option("--no-qr", "never print a QR code")
    .addHelpText(
      "after",
      "\nExamples:\n  paseo daemon start\n  paseo daemon start --relay-host 0.0.0.0          # a phone on the same Wi-Fi scans the QR\n  paseo daemon start --relay wss://relay.example.com",
    )
    .action(
      async (flags: {
        home?: string;
        relay?: RelayEndpoint | false;
        listen?: { host: string; port: number };
        relayPort?: number;
        relayHost?: string;
        relayAdvertise?: string;
        appUrl?: string;
        logLevel: LogLevel;
        jsonLogs?: boolean;
        qr: QrChoice;
      }) => {
        const home = await ensureHome(resolveHome(flags.home));
        const log = createLogger({ level: flags.logLevel, json: flags.jsonLogs });
        if (flags.appUrl !== undefined) await saveAppUrl(home, flags.appUrl);
        if (flags.relay) await saveConfig(home, { ...(await loadConfig(home)), relay: flags.relay });
        // Saved so that `paseo daemon pair` run while the daemon is stopped points at the port it will use again.
        if (flags.relayPort)
          await saveConfig(home, { ...(await loadConfig(home)), embeddedRelayPort: flags.relayPort });
        if (flags.relayHost !== undefined || flags.relayAdvertise !== undefined)
          await saveRelayHost(home, flags.relayHost, flags.relayAdvertise);
        // Loaded here, not at the top: client commands like `paseo ls` should not pay for the daemon's modules.
        const { startDaemon } = await import("../../daemon/daemon.js");
        const daemon = await startDaemon({
          home,
          relay: flags.relay === false ? null : (flags.relay ?? undefined),
          listen: flags.listen,
          embeddedRelayPort: flags.relayPort,
          log,
        });
        // Listen for signals BEFORE printing the banner: whoever reads "is running" may stop us at once, and a
        // signal with no listener kills the process without closing the daemon.
        // SIGINT/SIGTERM: stop the daemon, agents keep running (the next start re-adopts them).
        // SIGUSR2: stop the daemon AND end its agents (what `paseo daemon stop --kill-agents` sends).
        const stopped = new Promise<boolean>((resolve) => {
          const stop = (signal: string, kill: boolean) => {
            log("info", `received ${signal}, stopping${kill ? " and ending every agent" : " (agents keep running)"}`);
            resolve(kill);
          };
          process.once("SIGINT", () => stop("SIGINT", false));
          process.once("SIGTERM", () => stop("SIGTERM", false));
          process.once("SIGUSR2", () => stop("SIGUSR2", true));
        });
        const p = daemon.pairing;
        if (p) {
          // The link and the fingerprint come LAST (after the QR code): they must stay on screen in an 80×24 terminal.
          const head = [
            "",
            `paseo daemon ${p.serverId} is running.`,
            "On this machine:        paseo ls",
            'From another terminal:  paseo ls --relay "<the pairing link below>"',
          ];
          if (daemon.lanRelay) head.push("", lanExposureNote(daemon.lanRelay.endpoint));
          if (shouldPrintQr(flags.qr, p.link, p.offer.relay.endpoint)) head.push("", renderQr(p.link));
          else if (flags.qr === undefined) head.push(QR_SKIPPED_NOTE);
          const tail = [
            ...(hasNoAppUrl(p.link) ? ["", NO_APP_URL_HINT] : []),
            "",
            "Pairing link (full control for whoever holds it, valid 24 h; to enroll a device of its own: paseo daemon pair):",
            `  ${p.link}`,
            `Daemon fingerprint: ${p.fingerprint}`,
            "",
          ];
          process.stdout.write([...head, ...tail].join("\n"));
        } else {
          process.stdout.write(
            `paseo daemon ${daemon.identity.serverId} is running (local only: ${daemon.localUrl}).\n`,
          );
        }
        const killAgents = await stopped;
        await daemon.close({ killAgents });
      },
    );

  d.command("stop")
    .description("stop the daemon running with this home (waits up to 15 s); agents keep running unless --kill-agents")
    .option("--home <dir>", "PASEO_HOME")
    .option(
      "--kill-agents",
      "also end every running agent (SIGTERM, then SIGKILL after 5 s), even with no daemon running",
    )
    .addHelpText(
      "after",
      "\nAgents run in their own host processes and outlive the daemon; `paseo daemon start` re-adopts them.",
    )
    .action(async (flags: { home?: string; killAgents?: boolean }) => {
      const home = resolveHome(flags.home);
      await assertSafeHome(home); // the pid we signal comes from this directory
      const pid = await readPid(home);
      if (pid === undefined || !isProcessAlive(pid)) {
        if (flags.killAgents) return killAgentsWithoutDaemon(home);
        info(`no daemon is running with home ${home}`);
        return;
      }
      process.kill(pid, flags.killAgents ? "SIGUSR2" : "SIGTERM");
      const deadline = Date.now() + (flags.killAgents ? 25_000 : 15_000);
      while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (isProcessAlive(pid)) {
        info(`daemon ${pid} did not stop within ${flags.killAgents ? 25 : 15} s`);
        process.exitCode = 1;
      } else info(`daemon ${pid} stopped`);
    });

  d.command("status")
    .description("show whether the daemon runs and the real state of its relay path")
    .option("--home <dir>", "PASEO_HOME")
    .option("--json", "machine-readable output")
    .action(async (flags: { home?: string; json?: boolean }) => {
      const home = resolveHome(flags.home);
      const pid = await readPid(home);
      const running = pid !== undefined && isProcessAlive(pid);
      const status = running ? await readStatus(home) : undefined;
      // input.json is the truth (it is read even with no daemon running); the daemon applies it within ms.
      const input = readInputFile(home);
      const audit = status?.audit ?? null;
      const devices = await deviceCounts(home);
      const out = {
        running,
        pid: running ? pid : null,
        home,
        inputEnabled: input.inputEnabled,
        inputChangedAt: input.changedAt,
        auditFailure: audit?.failure ?? null,
        devices,
        ...(status ? { status } : {}),
      };
      if (flags.json) printJson(out);
      else if (!running)
        info(`not running (home ${home})${input.inputEnabled ? "" : `; input is off (\`${INPUT_ON_HINT}\`)`}`);
      else {
        const r = status?.relay;
        const lan = status?.embeddedRelay?.advertised;
        const lines = [
          `running     pid ${pid}, since ${status?.startedAt ?? "?"}`,
          `server      ${status?.serverId ?? "?"}`,
          `local       ${status?.local?.url ?? "-"}`,
          r
            ? `relay       ${r.endpoint} ${r.state}${r.connectedSince ? ` since ${r.connectedSince}` : ""}${r.lastRttMs !== null ? `, rtt ${r.lastRttMs} ms at ${r.lastPongAt}` : ""}${r.lastError ? ` (last error: ${r.lastError})` : ""}`
            : "relay       none",
          ...(lan
            ? [
                `lan         links use ${lan.endpoint} (embedded relay listening on ${status?.embeddedRelay?.listen ?? "?"}; the daemon's own link is loopback)`,
              ]
            : []),
          `agents      ${status?.agents.running ?? 0} running, ${status?.agents.total ?? 0} total`,
          "error" in devices
            ? `devices     cannot read: ${devices.error}`
            : `devices     ${devices.active} active (${devices.readOnly} read-only), ${devices.revoked} revoked — \`paseo daemon devices\``,
          input.inputEnabled
            ? "input       enabled"
            : `input       OFF since ${input.changedAt ?? "?"}: send and terminal input refused (\`${INPUT_ON_HINT}\`)`,
          audit?.failure
            ? `audit       FAILING since ${audit.failure.at}: ${audit.failure.message} (entries are being lost)`
            : `audit       ${audit?.path ?? join(home, "audit.jsonl")}`,
        ];
        process.stdout.write(`${lines.map(escapeControls).join("\n")}\n`); // lastError quotes the relay's words
      }
      if (!running) process.exitCode = 1;
    });
}

/** Enrolled devices by state, for `daemon status` (devices.json is read even with no daemon running). */
async function deviceCounts(
  home: string,
): Promise<{ active: number; readOnly: number; revoked: number } | { error: string }> {
  try {
    const all = await new DeviceStore(home).list();
    const active = all.filter((d) => d.state === "active");
    return {
      active: active.length,
      readOnly: active.filter((d) => d.rights === "read-only").length,
      revoked: all.length - active.length,
    };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Save --relay-host / --relay-advertise after checking them against this machine's interfaces now, so a typo is a
 * named error at once and never lands in config.json. A new --relay-host without --relay-advertise drops the old
 * advertised name (it belonged to the old address); a loopback host drops both keys.
 */
async function saveRelayHost(home: string, host: string | undefined, advertise: string | undefined): Promise<void> {
  const config = await loadConfig(home);
  const nextHost = host ?? config.embeddedRelayHost;
  const nextAdvertise = advertise ?? (host === undefined ? config.embeddedRelayAdvertise : undefined);
  resolveRelayHost(nextHost, nextAdvertise); // throws RelayHostError with what to do
  const { embeddedRelayHost: _h, embeddedRelayAdvertise: _a, ...rest } = config;
  if (isLoopbackRelayHost(nextHost)) return saveConfig(home, rest);
  await saveConfig(home, {
    ...rest,
    embeddedRelayHost: nextHost,
    ...(nextAdvertise !== undefined ? { embeddedRelayAdvertise: nextAdvertise } : {}),
  });
}

/** Printed at start when the embedded relay is on the LAN: what that exposes (docs/protocol.md §1, README). */
function lanExposureNote(endpoint: string): string {
  return (
    `The embedded relay is reachable on your network at ${endpoint}. It only ever sees ciphertext, but the page this\n` +
    "link opens travels unencrypted over the LAN: use it on networks you trust (see README, Running a relay)."
  );
}

/** `daemon stop --kill-agents` with no daemon: take the daemon's lock, re-adopt the agents and end them. */
async function killAgentsWithoutDaemon(home: string): Promise<void> {
  const { acquireDaemonLock } = await import("../../daemon/runtime-files.js");
  const { AgentManager } = await import("../../daemon/agents/index.js");
  const release = await acquireDaemonLock(home);
  try {
    const agents = new AgentManager({ dir: join(home, "agents"), log: createLogger({ level: "warn" }) });
    await agents.open();
    const running = agents.list().length;
    await agents.close({ killAgents: true });
    info(`no daemon is running with home ${home}; ended ${running} running agent${running === 1 ? "" : "s"}`);
  } finally {
    await release();
  }
}
