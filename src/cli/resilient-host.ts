/**
 * ResilientHost: the connection source of a long-lived CLI stream (`logs -f`, `attach`), in the LogSource /
 * TerminalHost shape that followLogs() and TerminalSession resume through (sessionForStreaming / nextSession). It survives what a user expects a follower to
 * survive, says so on stderr, and gives up with a named error after the reconnect window:
 *   - through a relay: DaemonClient's own reconnect (relay restarts, network blips, a daemon restart);
 *   - to the local daemon directly: its offer dies with it, but agents outlive the daemon, so after a stop + start (or
 *     a crash and restart) it waits for a live daemon in the same home with a new local offer and connects with it.
 * followLogs() then resubscribes from the last seq + 1: nothing lost or repeated.
 */
import { streamHost, type DaemonClient } from "../client/daemon-client.js";
import { DaemonOfflineError } from "../client/errors.js";
import { isPermanent } from "../client/permanent.js";
import type { Session } from "../client/session.js";
import { CloseCode } from "../protocol/close-codes.js";
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import { LocalDaemonStoppedError } from "./cli-errors.js";
import { openClientTarget, type ClientFlags } from "./client-factory.js";
import { info } from "./output.js";

const LOCAL_POLL_MS = 200;

export class ResilientHost {
  private constructor(
    private client: DaemonClient,
    private readonly localHome: string | undefined,
    private readonly flags: ClientFlags,
    private readonly windowS: number,
    private readonly say: (line: string) => void,
  ) {}

  /**
   * `windowS`: how long to keep trying after a loss before giving up (0 = at once). `say` prints the lost/back lines
   * (default: a line on stderr; `paseo attach` passes one that works in raw mode).
   */
  static async open(flags: ClientFlags, windowS: number, say: (line: string) => void = info): Promise<ResilientHost> {
    const target = await openClientTarget(flags, { reconnect: true });
    return new ResilientHost(target.client, target.localHome, flags, windowS, say);
  }

  /** The per-request timeout of the current client (TerminalSession's TerminalHost shape). */
  get requestTimeoutMs(): number {
    return streamHost(this.client).requestTimeoutMs;
  }

  /** The current client (requests go through it; it changes after a local daemon restart). */
  get daemon(): DaemonClient {
    return this.client;
  }

  sessionForStreaming(): Promise<Session> {
    return streamHost(this.client).sessionForStreaming();
  }

  async nextSession(error: PaseoError): Promise<Session> {
    if (isPermanent(error)) throw error;
    const shutdown = error instanceof DaemonOfflineError && error.closeCode === CloseCode.DAEMON_SHUTDOWN;
    const what = shutdown
      ? "the daemon is shutting down"
      : `lost the connection to the daemon (${escapeControls(error.message)})`;
    if (this.windowS === 0) {
      this.client.close();
      throw this.localHome !== undefined
        ? new LocalDaemonStoppedError(
            this.localHome,
            shutdown ? "it is shutting down" : `the connection was lost (${error.code})`,
          )
        : error;
    }
    this.say(
      `paseo: ${what}; ${this.localHome !== undefined ? `waiting up to ${this.windowS} s for it to start again` : `reconnecting for up to ${this.windowS} s`}`,
    );
    const session =
      this.localHome === undefined ? await this.viaRelay(error) : await this.local(this.localHome, error, shutdown);
    this.say("paseo: reconnected; the output resumes where it stopped");
    return session;
  }

  close(): void {
    this.client.close();
  }

  private async viaRelay(error: PaseoError): Promise<Session> {
    let last = error;
    const offError = this.client.on("error", (err) => (last = err));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.client.close(); // ends DaemonClient's reconnect loop (close() wakes its backoff wait)
        reject(new PaseoError(last.code, `gave up reconnecting after ${this.windowS} s: ${last.message}`));
      }, this.windowS * 1000);
    });
    try {
      return await Promise.race([streamHost(this.client).nextSession(error), expired]);
    } finally {
      clearTimeout(timer);
      offError();
    }
  }

  /** Wait for a live daemon in the same home with a new local offer (a restart), and connect with it. */
  private async local(home: string, error: PaseoError, shutdown: boolean): Promise<Session> {
    const oldOfferId = this.client.offer?.offerId;
    this.client.close();
    const deadline = Date.now() + this.windowS * 1000;
    while (Date.now() < deadline) {
      try {
        const next = await openClientTarget(this.flags);
        if (next.client.offer?.offerId !== oldOfferId) {
          try {
            const session = await streamHost(next.client).sessionForStreaming();
            this.client = next.client;
            return session;
          } catch {
            // still starting: try again
          }
        }
        next.client.close();
      } catch {
        // no daemon yet
      }
      await new Promise((r) => setTimeout(r, LOCAL_POLL_MS));
    }
    const what = shutdown ? "it is shutting down" : `the connection was lost (${error.code})`;
    throw new LocalDaemonStoppedError(home, `${what}, and it did not start again within ${this.windowS} s`);
  }
}
