/**
 * Live sessions per enrolled device: `paseo daemon devices revoke <id>` (another process, writing devices.json under
 * its lock) ends every session of that device at once with 4114 (the daemon's encrypted CLOSE, then the transport
 * close), and `paseo daemon devices set <id> --read-only|--control` applies to the device's next request.
 *
 * How the daemon learns of it: the same home-directory watch as offers.json (offer-sessions.ts alsoWatch) plus a
 * backstop sweep every SWEEP_MS while device sessions are open (one stat; the file is re-read only if it changed).
 */
import { CloseCode } from "../protocol/close-codes.js";
import type { DeviceRights } from "../protocol/device.js";
import type { DeviceStore } from "./device-store.js";
import type { Logger } from "./logger.js";
import { SWEEP_MS, type SessionTicket } from "./offer-sessions.js";

export interface DeviceSession {
  close(code: number): void;
  setRights(rights: DeviceRights): void;
}

export class DeviceSessions {
  private readonly byDevice = new Map<string, Set<DeviceSession>>();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private checking: Promise<void> | undefined;
  private recheckQueued = false;
  private stopped = false;

  constructor(
    private readonly store: DeviceStore,
    private readonly log: Logger,
  ) {}

  /** Number of live sessions of a device (status and tests). */
  count(deviceId: string): number {
    return this.byDevice.get(deviceId)?.size ?? 0;
  }

  open(deviceId: string, session: DeviceSession): SessionTicket {
    let sessions = this.byDevice.get(deviceId);
    if (!sessions) {
      sessions = new Set();
      this.byDevice.set(deviceId, sessions);
    }
    sessions.add(session);
    this.sweepTimer ??= setInterval(() => this.recheck(), SWEEP_MS);
    this.sweepTimer.unref?.();
    this.recheck(); // a revoke may have landed between the handshake's lookup and now
    let released = false;
    return {
      confirm() {},
      release: () => {
        if (released) return;
        released = true;
        const set = this.byDevice.get(deviceId);
        set?.delete(session);
        if (set?.size === 0) this.byDevice.delete(deviceId);
        if (this.byDevice.size === 0 && this.sweepTimer) {
          clearInterval(this.sweepTimer);
          this.sweepTimer = undefined;
        }
      },
    };
  }

  /** devices.json changed (or the sweep): close revoked devices' sessions, apply rights changes. */
  recheck(): void {
    if (this.stopped || this.byDevice.size === 0) return;
    if (this.checking) {
      this.recheckQueued = true;
      return;
    }
    this.checking = this.check()
      .catch((err: Error) =>
        this.log("warn", `cannot re-check devices (${err.message}); live sessions kept until it reads again`),
      )
      .finally(() => {
        this.checking = undefined;
        if (this.recheckQueued) {
          this.recheckQueued = false;
          this.recheck();
        }
      });
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.byDevice.clear();
  }

  private async check(): Promise<void> {
    const devices = await this.store.current();
    for (const [deviceId, sessions] of [...this.byDevice]) {
      const device = devices.find((d) => d.id === deviceId);
      if (device?.state === "active") {
        for (const s of sessions) s.setRights(device.rights);
        continue;
      }
      const code = device ? CloseCode.DEVICE_REVOKED : CloseCode.DEVICE_UNKNOWN;
      this.log("info", `device ${deviceId} is ${device ? "revoked" : "gone"}: closing its ${sessions.size} session(s)`);
      this.byDevice.delete(deviceId);
      for (const s of sessions) s.close(code);
    }
  }
}
