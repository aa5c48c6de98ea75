/**
 * Where `paseo attach` gets its connections (the TerminalHost of its TerminalSession), so that it survives what a
 * user expects it to survive, and gives up — with a named error — on what it cannot:
 *   - through a relay: DaemonClient's own reconnect, for up to RECONNECT_WINDOW_MS per outage;
 *   - to the local daemon directly: its offer dies with it, but agents outlive the daemon, so after
 *     `paseo daemon stop` + `start` (or a crash and restart) the attach waits for the new daemon in the same home,
 *     connects with its new local offer and resumes from the next seq — nothing lost or repeated.
 */
import { DaemonClient } from "../../client/daemon-client.js";
import type { Session } from "../../client/session.js";
import type { TerminalHost } from "../../client/terminal-session.js";
import { isPermanent } from "../../client/permanent.js";
import { isProcessAlive } from "../../daemon/home.js";
import { readLocalOffer, readPid } from "../../daemon/runtime-files.js";
import { PaseoError } from "../../protocol/errors.js";
import { LocalDaemonStoppedError } from "../cli-errors.js";
import { openClientTarget, type ClientFlags } from "../client-factory.js";
import { RECONNECT_WINDOW_MS } from "../follow.js";

const LOCAL_POLL_MS = 200;

export class AttachHost implements TerminalHost {
  private constructor(
    private client: DaemonClient,
    private readonly localHome: string | undefined,
    readonly requestTimeoutMs: number,
    private readonly windowMs: number,
  ) {}

  static async open(flags: ClientFlags, windowMs = RECONNECT_WINDOW_MS): Promise<AttachHost> {
    const target = await openClientTarget(flags, { reconnect: true });
    return new AttachHost(target.client, target.localHome, target.client.requestTimeoutMs, windowMs);
  }

  /** The current client (agent lookups go through it). */
  get daemon(): DaemonClient {
    return this.client;
  }

  sessionForStreaming(): Promise<Session> {
    return this.client.sessionForStreaming();
  }

  nextSession(error: PaseoError): Promise<Session> {
    if (isPermanent(error)) return Promise.reject(error);
    return this.localHome === undefined ? this.viaRelay(error) : this.local(this.localHome, error);
  }

  close(): void {
    this.client.close();
  }

  private async viaRelay(error: PaseoError): Promise<Session> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.client.close(); // ends DaemonClient's reconnect loop
        reject(new PaseoError(error.code, `gave up reconnecting after ${this.windowMs / 1000} s: ${error.message}`));
      }, this.windowMs);
    });
    try {
      return await Promise.race([this.client.nextSession(error), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Wait for a daemon in the same home (the same one back, or a new one with a new local offer) and connect. */
  private async local(home: string, error: PaseoError): Promise<Session> {
    const deadline = Date.now() + this.windowMs;
    let last: PaseoError = error;
    while (Date.now() < deadline) {
      const offer = await readLocalOffer(home).catch(() => undefined);
      const pid = offer ? await readPid(home).catch(() => undefined) : undefined;
      if (offer && pid !== undefined && isProcessAlive(pid)) {
        const next = new DaemonClient({ offer, reconnect: false, requestTimeoutMs: this.requestTimeoutMs, connectTimeoutMs: 5_000 });
        try {
          const session = await next.sessionForStreaming();
          this.client.close();
          this.client = next;
          return session;
        } catch (err) {
          next.close();
          last = err instanceof PaseoError ? err : last;
        }
      }
      await new Promise((r) => setTimeout(r, LOCAL_POLL_MS));
    }
    throw new LocalDaemonStoppedError(home, `no daemon came back within ${this.windowMs / 1000} s (${last.code})`);
  }
}
