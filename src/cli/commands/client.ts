/**
 * Client commands: ls, info, run, logs, send, stop, exec. Each takes --relay <link|file> (or PASEO_RELAY_OFFER) and
 * otherwise talks to the local daemon. Data goes to stdout (--json for scripts), messages to stderr.
 */
import { type Command, InvalidArgumentError } from "commander";
import { resolveAgentRef } from "../../client/agent-ref.js";
import type { DaemonClient } from "../../client/daemon-client.js";
import { escapeControls } from "../../protocol/escape.js";
import { EXEC_MAX_TIMEOUT_MS, MAX_GRACE_MS } from "../../protocol/rpc-params.js";
import { openClient, type ClientFlags } from "../client-factory.js";
import { runExec, type ExecFlags } from "../exec.js";
import { fleetExec, fleetLs } from "../fleet.js";
import { PaseoError } from "../../protocol/errors.js";
import { agentsTable, serverInfoText } from "../format.js";
import { runLogs, type LogsFlags } from "../follow.js";
import { info, printJson } from "../output.js";
import { ttyRunOptions } from "../terminal/run-tty.js";

type Flags = ClientFlags & { json?: boolean };

export function clientOptions(cmd: Command): Command {
  return cmd
    .option(
      "--relay <link|file>",
      "pairing link, offer file or offer text (default: $PASEO_RELAY_OFFER, else the local daemon)",
    )
    .option("--host <name>", "a saved host (`paseo hosts`; default: $PASEO_HOST)")
    .option("--home <dir>", "PASEO_HOME of the local daemon (default: $PASEO_HOME or ~/.paseo)")
    .option("--timeout <seconds>", "per-request timeout", positiveInt);
}

async function withClient<T>(flags: Flags, fn: (client: DaemonClient) => Promise<T>): Promise<T> {
  const client = await openClient(flags);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** --hosts names the targets itself: --relay / --host alongside it is a mistake worth saying. */
function fleetSpec(flags: Flags & { hosts?: string }): string {
  if (flags.relay !== undefined || flags.host !== undefined)
    throw new PaseoError("USAGE", "--hosts runs on saved hosts: drop --relay / --host");
  return flags.hosts!;
}

export function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** An integer option with the daemon's bounds, checked here so the error names the flag, not the RPC parameter. */
export function intBetween(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

export function register(program: Command): void {
  clientOptions(program.command("ls"))
    .description("list agents (running ones; -a for all)")
    .option("-a, --all", "include exited agents")
    .option("--hosts <all|a,b>", "list on several saved hosts at once, grouped by host")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      '\nExamples:\n  paseo ls\n  paseo ls -a --relay "https://relay.example/#offer=…"\n  paseo ls --host laptop\n  paseo ls --hosts all',
    )
    .action(async (flags: Flags & { all?: boolean; hosts?: string }) => {
      if (flags.hosts !== undefined) return fleetLs(fleetSpec(flags), flags);
      const agents = await withClient(flags, (c) => c.listAgents({ all: flags.all }));
      if (flags.json) printJson(agents);
      else process.stdout.write(`${agentsTable(agents)}\n`);
    });

  clientOptions(program.command("info"))
    .description("show the daemon's identity, versions and host metrics")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  paseo info --relay ~/paseo-offer.json")
    .action(async (flags: Flags) => {
      const server = await withClient(flags, (c) => c.serverInfo());
      if (flags.json) printJson(server);
      else process.stdout.write(`${serverInfoText(server)}\n`);
    });

  clientOptions(program.command("run"))
    .description("start an agent: a command that keeps running on the daemon")
    .argument("<command...>", "the command and its arguments (put them after --)")
    .option("--name <name>", "a name to find it by")
    .option("--cwd <dir>", "working directory on the daemon")
    .option("--shell", "run through /bin/sh -c")
    .option("--tty", "run under a terminal (for interactive programs; then `paseo attach <id|name>`)")
    .option("--cols <n>", "terminal width with --tty (default: this terminal's, else 80)", positiveInt)
    .option("--rows <n>", "terminal height with --tty (default: this terminal's, else 24)", positiveInt)
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  paseo run --name build -- npm run build\n  paseo run --tty --name sh -- bash && paseo attach sh",
    )
    .action(
      async (
        argv: string[],
        flags: Flags & { name?: string; cwd?: string; shell?: boolean; tty?: boolean; cols?: number; rows?: number },
      ) => {
        const tty = ttyRunOptions(flags);
        const agent = await withClient(flags, (c) =>
          c.runAgent({ argv, name: flags.name, cwd: flags.cwd, shell: flags.shell, ...tty }),
        );
        if (flags.json) printJson(agent);
        else info(`started agent ${agent.id} (${escapeControls(agent.name)}, pid ${agent.pid})`);
        if (!flags.json) process.stdout.write(`${escapeControls(agent.id)}\n`);
      },
    );

  clientOptions(program.command("logs"))
    .description(
      "print an agent's output; -f follows it live (resumes after a reconnect), then exits with the agent's status",
    )
    .argument("<agent>", "agent id, unique id prefix or name")
    .option("-f, --follow", "keep streaming until the agent exits; then say how it ended and exit with its status")
    .option("--since <seq>", "start at this chunk sequence number", positiveInt)
    .option(
      "--reconnect-timeout <seconds>",
      "with -f: keep trying this long after the connection or the daemon is lost, then exit 255 (default 30; 0 = at once)",
      intBetween(0, 86_400),
    )
    .addHelpText("after", "\nExamples:\n  paseo logs 3kq7x2ab\n  paseo logs -f build --relay ~/paseo-offer.json")
    .action((ref: string, flags: LogsFlags) => runLogs(ref, flags));

  clientOptions(program.command("send"))
    .description("write text to an agent's stdin ('-' reads it from this stdin)")
    .argument("<agent>", "agent id, unique id prefix or name")
    .argument("<text>", "text to send (a newline is added), or - for stdin")
    .addHelpText("after", "\nExamples:\n  paseo send 3kq7x2ab 'yes'\n  echo data | paseo send build -")
    .action(async (ref: string, text: string, flags: Flags) => {
      let data: Uint8Array;
      if (text === "-") {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        data = new Uint8Array(Buffer.concat(chunks));
      } else data = new TextEncoder().encode(`${text}\n`);
      const n = await withClient(flags, async (c) => c.sendInput((await resolveAgentRef(c, ref)).id, data));
      info(`sent ${n} bytes`);
    });

  clientOptions(program.command("stop"))
    .description("stop an agent (SIGTERM, then SIGKILL after a grace period)")
    .argument("<agent>", "agent id, unique id prefix or name")
    .option("--grace <ms>", "grace period before SIGKILL", intBetween(0, MAX_GRACE_MS))
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExamples:\n  paseo stop 3kq7x2ab\n  paseo stop build")
    .action(async (ref: string, flags: Flags & { grace?: number }) => {
      const agent = await withClient(flags, async (c) =>
        c.stopAgent((await resolveAgentRef(c, ref)).id, { graceMs: flags.grace }),
      );
      if (flags.json) printJson(agent);
      else
        info(
          escapeControls(
            `agent ${agent.id} (${agent.name}): ${agent.state}${agent.signal ? ` (${agent.signal})` : agent.exitCode !== null ? ` (${agent.exitCode})` : ""}`,
          ),
        );
    });

  clientOptions(program.command("exec"))
    .description(
      "run a one-shot command on the daemon; exit with its status, like `ssh host cmd` (paseo's own failures: 255)",
    )
    .argument("<command...>", "the command and its arguments (put them after --)")
    .option("--cwd <dir>", "working directory")
    .option("--shell", "run through /bin/sh -c")
    .option(
      "--exec-timeout <seconds>",
      "kill the command after this long (default 30; status 124)",
      intBetween(1, EXEC_MAX_TIMEOUT_MS / 1000),
    )
    .option(
      "--hosts <all|a,b>",
      "run on several saved hosts in parallel; output grouped by host, exit 0 only if all exit 0",
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  paseo exec -- uname -a\n  paseo exec --shell -- 'make test; echo $?'\n  paseo exec --hosts all -- git -C ~/src/app status --short",
    )
    .action((argv: string[], flags: ExecFlags & { hosts?: string }) =>
      flags.hosts !== undefined ? fleetExec(fleetSpec(flags), argv, flags) : runExec(argv, flags),
    );
}
