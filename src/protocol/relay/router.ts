/**
 * The routing table: which authenticated daemon socket holds each serverId slot, and which clients are waiting
 * out the offline grace for a daemon that is (re)connecting. Only authenticated daemons ever enter the table, so
 * an unproven connection can neither take a slot nor disturb the one holding it.
 */
import type { ClientSession } from "./client-session.js";
import type { DaemonSession } from "./daemon-session.js";

export class Router {
  private readonly daemons = new Map<string, DaemonSession>();
  private readonly waiting = new Map<string, Set<ClientSession>>();

  lookup(serverId: string): DaemonSession | undefined {
    return this.daemons.get(serverId);
  }

  /**
   * Give the slot to a daemon that just proved its key. An older holder is replaced (it closes with 4004 and its
   * clients with 4002: their Noise sessions lived in the old daemon process). Waiting clients attach at once.
   */
  register(daemon: DaemonSession): void {
    const old = this.daemons.get(daemon.serverId);
    this.daemons.set(daemon.serverId, daemon);
    if (old && old !== daemon) old.replaced();
    const waiters = this.waiting.get(daemon.serverId);
    if (!waiters) return;
    this.waiting.delete(daemon.serverId);
    for (const client of waiters) client.attachTo(daemon);
  }

  /** Free the slot if `daemon` still holds it (a replaced daemon no longer does). */
  unregister(daemon: DaemonSession): void {
    if (this.daemons.get(daemon.serverId) === daemon) this.daemons.delete(daemon.serverId);
  }

  wait(client: ClientSession): void {
    let set = this.waiting.get(client.serverId);
    if (!set) {
      set = new Set();
      this.waiting.set(client.serverId, set);
    }
    set.add(client);
  }

  unwait(client: ClientSession): void {
    const set = this.waiting.get(client.serverId);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) this.waiting.delete(client.serverId);
  }

  counts(): { daemons: number; clients: number; pendingClients: number } {
    let clients = 0;
    for (const d of this.daemons.values()) clients += d.clientCount;
    let pendingClients = 0;
    for (const set of this.waiting.values()) pendingClients += set.size;
    return { daemons: this.daemons.size, clients, pendingClients };
  }
}
