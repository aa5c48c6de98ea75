/**
 * The daemons one `paseo mcp` serves ("targets"), each reached through one DaemonClient at a time — the same client
 * and the same resolution as every other client command (../client-factory.ts): `--relay <link|file>` /
 * PASEO_RELAY_OFFER, else the local daemon of PASEO_HOME.
 *
 * A target outlives its connections. The MCP server runs for as long as the assistant does (hours), while a daemon
 * may stop, restart or lose its relay: a call made while it is away must fail at once with a named error (not wait
 * in a reconnect loop the assistant cannot see), and the next call after it is back must work. So clients are made
 * without auto-reconnect, and a client whose connection is gone is dropped (after the failing call, or before the
 * next one): the next call builds a new one from the target's source. For the local daemon that also re-reads
 * local-offer.json, whose secret a restarted daemon replaces.
 */
import { DaemonClient } from "../../client/daemon-client.js";
import type { DeviceRights } from "../../protocol/device.js";
import { credentialOf, HostStore } from "../hosts/host-store.js";
import { resolveOffer } from "../../client/offer-resolve.js";
import { PaseoError } from "../../protocol/errors.js";
import type { AgentInfo, ServerInfo } from "../../protocol/rpc.js";
import { resolveAgentRef } from "../../client/agent-ref.js";
import { openClientTarget, type ClientFlags } from "../client-factory.js";

export type TargetKind = "local" | "relay" | "host";

export class UnknownHostError extends PaseoError {
  constructor(name: string, known: readonly string[]) {
    super(
      "UNKNOWN_HOST",
      `this paseo mcp serves no host named "${name.slice(0, 64)}"; it serves: ${known.join(", ")} (call hosts_list)`,
    );
  }
}

/** One daemon this server can reach. */
export class Target {
  private current: DaemonClient | undefined;
  private opening: Promise<DaemonClient> | undefined;
  /** The daemon's identity from the last handshake (kept after the connection is gone, for hosts_list). */
  lastServer: ServerInfo | undefined;

  constructor(
    readonly name: string,
    readonly kind: TargetKind,
    private readonly open: () => Promise<DaemonClient>,
    /** A saved host's rights as enrolled (hosts.json); the daemon stays the judge of every request. */
    readonly rights?: DeviceRights,
  ) {}

  /**
   * Run `fn` with this target's client. A failure that left the client without its session (daemon offline, relay
   * unreachable, timeout, …) drops the client, so the next call starts afresh; the error is rethrown as is.
   */
  async use<T>(fn: (client: DaemonClient) => Promise<T>): Promise<T> {
    const client = await this.client();
    try {
      return await fn(client);
    } catch (err) {
      if (client.state !== "connected") this.drop(client);
      throw err;
    } finally {
      if (client.server) this.lastServer = client.server;
    }
  }

  /** An agent by id, unique id prefix or name (the CLI's rule: ../../client/agent-ref.ts). */
  agent(client: DaemonClient, ref: string): Promise<AgentInfo> {
    return resolveAgentRef(client, ref);
  }

  close(): void {
    this.current?.close();
    this.current = undefined;
  }

  private async client(): Promise<DaemonClient> {
    // A client whose session ended since the last call (the daemon stopped, the path broke) is replaced: for the
    // local daemon only a fresh read of local-offer.json can reach its next run.
    // (Idle after a handshake = lost; idle before any is a client another call is about to connect: keep it.)
    const c = this.current;
    if (c && (c.state === "closed" || (c.state === "idle" && c.server !== undefined))) this.drop(c);
    if (this.current) return this.current;
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    const client = await this.opening;
    this.current ??= client;
    return this.current;
  }

  private drop(client: DaemonClient): void {
    if (this.current !== client) return;
    client.close();
    this.current = undefined;
  }
}

/** The set of targets, looked up by the tools' optional `host` argument. */
export class Targets {
  constructor(readonly all: readonly Target[]) {
    if (all.length === 0) throw new Error("paseo mcp needs at least one host");
  }

  /** The target `name` names; without a name, the only one (a HOST_REQUIRED error when there are several). */
  get(name: string | undefined): Target {
    if (name === undefined) {
      if (this.all.length === 1) return this.all[0]!;
      throw new PaseoError(
        "HOST_REQUIRED",
        `this paseo mcp serves several hosts (${this.names().join(", ")}): pass "host" with one of them`,
      );
    }
    const found = this.all.find((t) => t.name === name);
    if (!found) throw new UnknownHostError(name, this.names());
    return found;
  }

  names(): string[] {
    return this.all.map((t) => t.name);
  }

  close(): void {
    for (const t of this.all) t.close();
  }
}

/**
 * The target of the usual client flags: the --relay / PASEO_RELAY_OFFER daemon ("relay"), else the local daemon
 * ("local"). A bad link or offer file fails `paseo mcp` at start, where the user sees it; a local daemon that is not
 * running yet does not (assistants start their MCP servers when they start): each call then says how to start it.
 * Nothing connects until the first tool call.
 */
/**
 * One target per saved host (`paseo mcp --host a --host b`), named as in `paseo hosts`; an unknown name fails
 * `paseo mcp` at start (HOST_NOT_FOUND). Each connects as that host's device, only when a tool first uses it.
 */
export async function targetsFromHosts(names: readonly string[]): Promise<Target[]> {
  const store = HostStore.open();
  const hosts = await Promise.all([...new Set(names)].map((n) => store.get(n)));
  return hosts.map(
    (h) =>
      new Target(
        h.name,
        "host",
        async () => new DaemonClient({ device: credentialOf(h), connectTimeoutMs: 10_000 }),
        h.rights,
      ),
  );
}

export async function targetFromFlags(flags: ClientFlags): Promise<Target> {
  const kind: TargetKind = (await resolveOffer({ relay: flags.relay, env: process.env })) ? "relay" : "local";
  return new Target(kind, kind, async () => (await openClientTarget(flags)).client);
}
