/**
 * Saved hosts (issue 16): the daemons this machine is enrolled on as a device, by a name the user chose, in
 * `hosts.json` of the client config directory — $PASEO_CONFIG, else $XDG_CONFIG_HOME/paseo, else ~/.config/paseo
 * (0700). The file (0600, written atomically under a lock, like the daemon's stores) holds each device's private
 * key: it is the credential `--host <name>` connects with. Nothing else ever prints or logs the key.
 *
 * A record without `deviceId` is an enrollment in progress: the key is saved BEFORE the enrollment handshake, so a
 * crash or a lost reply cannot lose a key the daemon already recorded (the next use tries the key first).
 */
import { promises as fs } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { DeviceCredential } from "../../client/device-auth.js";
import { HomeError, readJsonFile, SECRET_FILE_MODE, withFileLock, writeFileAtomic } from "../../daemon/home.js";
import { type DeviceRights, isDeviceRights } from "../../protocol/device.js";
import { fromBase64Url } from "../../protocol/encoding.js";
import { PaseoError } from "../../protocol/errors.js";
import { describeInput } from "../../protocol/redact.js";

export const HOSTS_FILE = "hosts.json";
export const CONFIG_ENV = "PASEO_CONFIG";
export const HOST_ENV = "PASEO_HOST";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface SavedHost {
  name: string;
  serverId: string;
  daemonPublicKeyB64: string;
  relay: { endpoint: string; tls: boolean };
  /** The device's X25519 private key (base64url): the secret of this record. */
  deviceKeyB64: string;
  /** Absent while the enrollment is in progress (see the file comment). */
  deviceId?: string;
  rights?: DeviceRights;
  sas?: string;
  enrolledAt?: string;
  label?: string;
}

/** What `paseo hosts --json` shows: everything but the key. */
export type HostSummary = Omit<SavedHost, "deviceKeyB64">;

export type HostStoreErrorCode = "HOSTS_CORRUPT" | "HOST_NOT_FOUND" | "HOST_EXISTS" | "HOST_NAME_INVALID";

export class HostStoreError extends PaseoError {
  declare readonly code: HostStoreErrorCode;
  constructor(code: HostStoreErrorCode, message: string) {
    super(code, message);
  }
}

/** The client config directory (see the file comment). */
export function configDir(env: Record<string, string | undefined> = process.env): string {
  if (env[CONFIG_ENV]) return env[CONFIG_ENV]!;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "paseo");
  return join(homedir(), ".config", "paseo");
}

export function checkHostName(name: string): string {
  if (!NAME_RE.test(name))
    throw new HostStoreError(
      "HOST_NAME_INVALID",
      `a host name is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit (got "${describeInput(name).slice(0, 40)}")`,
    );
  return name;
}

/** The credential DaemonClient connects with (`device` option). */
export function credentialOf(host: SavedHost): DeviceCredential {
  return {
    serverId: host.serverId,
    daemonPublicKeyB64: host.daemonPublicKeyB64,
    relay: { ...host.relay },
    deviceKeyB64: host.deviceKeyB64,
  };
}

export function summarize(host: SavedHost): HostSummary {
  const { deviceKeyB64: _key, ...rest } = host;
  void _key;
  return rest;
}

export class HostStore {
  readonly path: string;

  private constructor(readonly dir: string) {
    this.path = join(dir, HOSTS_FILE);
  }

  static open(dir: string = configDir()): HostStore {
    return new HostStore(dir);
  }

  async list(): Promise<SavedHost[]> {
    return this.read();
  }

  async get(name: string): Promise<SavedHost> {
    const hosts = await this.read();
    const host = hosts.find((h) => h.name === name);
    if (!host) {
      const known = hosts.map((h) => h.name);
      throw new HostStoreError(
        "HOST_NOT_FOUND",
        `no saved host named "${describeInput(name).slice(0, 40)}"${known.length ? ` (saved: ${known.join(", ")})` : ""}; add one with \`paseo hosts add <name> <link|file>\``,
      );
    }
    return host;
  }

  async findByServerId(serverId: string): Promise<SavedHost | undefined> {
    return (await this.read()).find((h) => h.serverId === serverId);
  }

  /** A name not yet taken, from `wanted` (`laptop`, `laptop-2`, …). */
  async freeName(wanted: string): Promise<string> {
    const taken = new Set((await this.read()).map((h) => h.name));
    const base = NAME_RE.test(wanted)
      ? wanted
      : wanted
          .replace(/[^A-Za-z0-9._-]/g, "-")
          .replace(/^[-._]+/, "")
          .slice(0, 56) || "host";
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
  }

  /** Insert or replace by name (`replace: false` refuses an existing name with HOST_EXISTS). */
  async save(host: SavedHost, options: { replace?: boolean } = {}): Promise<void> {
    checkHostName(host.name);
    await this.update((hosts) => {
      const i = hosts.findIndex((h) => h.name === host.name);
      if (i >= 0 && options.replace === false)
        throw new HostStoreError(
          "HOST_EXISTS",
          `a host named "${host.name}" is already saved: pick another name, or \`paseo hosts rm ${host.name}\` first`,
        );
      if (i >= 0) hosts[i] = { ...host };
      else hosts.push({ ...host });
    });
  }

  async remove(name: string): Promise<SavedHost> {
    return this.update((hosts) => {
      const i = hosts.findIndex((h) => h.name === name);
      if (i < 0)
        throw new HostStoreError("HOST_NOT_FOUND", `no saved host named "${describeInput(name).slice(0, 40)}"`);
      return hosts.splice(i, 1)[0]!;
    });
  }

  private async update<T>(fn: (hosts: SavedHost[]) => T): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    return withFileLock(this.path, async () => {
      const hosts = await this.read();
      const result = fn(hosts);
      await writeFileAtomic(this.path, `${JSON.stringify({ v: 1, hosts }, null, 2)}\n`, SECRET_FILE_MODE);
      return result;
    });
  }

  private async read(): Promise<SavedHost[]> {
    let value: unknown;
    try {
      value = await readJsonFile(this.path);
    } catch (err) {
      if (err instanceof HomeError && err.code === "FILE_CORRUPT") throw this.corrupt("not valid JSON");
      throw err;
    }
    if (value === undefined) return [];
    const f = value as { v?: unknown; hosts?: unknown };
    if (typeof f !== "object" || f === null || f.v !== 1 || !Array.isArray(f.hosts))
      throw this.corrupt('expected {"v":1,"hosts":[…]}');
    return f.hosts.map((h, i) => this.parseHost(h, i));
  }

  private parseHost(raw: unknown, i: number): SavedHost {
    const h = raw as Record<string, unknown>;
    const bad = (what: string) => this.corrupt(`host #${i + 1} has a bad ${what}`);
    if (typeof h !== "object" || h === null) throw bad("record");
    if (typeof h.name !== "string" || !NAME_RE.test(h.name)) throw bad("name");
    if (typeof h.serverId !== "string") throw bad("serverId");
    if (typeof h.daemonPublicKeyB64 !== "string" || fromBase64Url(h.daemonPublicKeyB64)?.length !== 32)
      throw bad("daemonPublicKeyB64");
    const relay = h.relay as { endpoint?: unknown; tls?: unknown } | undefined;
    if (typeof relay?.endpoint !== "string" || typeof relay.tls !== "boolean") throw bad("relay");
    if (typeof h.deviceKeyB64 !== "string" || fromBase64Url(h.deviceKeyB64)?.length !== 32) throw bad("device key");
    if (h.rights !== undefined && !isDeviceRights(h.rights)) throw bad("rights");
    const host: SavedHost = {
      name: h.name,
      serverId: h.serverId,
      daemonPublicKeyB64: h.daemonPublicKeyB64,
      relay: { endpoint: relay.endpoint, tls: relay.tls },
      deviceKeyB64: h.deviceKeyB64,
    };
    for (const k of ["deviceId", "sas", "enrolledAt", "label"] as const)
      if (typeof h[k] === "string") host[k] = h[k] as string;
    if (h.rights !== undefined) host.rights = h.rights as DeviceRights;
    return host;
  }

  private corrupt(detail: string): HostStoreError {
    return new HostStoreError(
      "HOSTS_CORRUPT",
      `${this.path} is damaged (${detail}): fix it, or move it away and add your hosts again with \`paseo hosts add\``,
    );
  }
}
