/**
 * server_info: identity plus cheap host metrics, sent in every handshake reply. CPU % is measured between
 * successive calls (the first call reports usage since boot), so it costs no timer.
 */
import os from "node:os";
import { statfs } from "node:fs/promises";
import type { HostMetrics, ServerInfo } from "../protocol/rpc.js";
import { PASEO_VERSION, PROTOCOL_VERSION } from "../version.js";

export const CAPABILITIES = ["agents", "logs.follow", "logs.resume", "exec", "input", "early-data"];

interface CpuSample {
  idle: number;
  total: number;
}

function sampleCpu(): CpuSample {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { idle, total };
}

export class ServerInfoSource {
  private lastCpu = sampleCpu();
  private cpuPercent = 0;
  private disk: { used: number; total: number } | null = null;
  private diskCheckedAt = 0;

  constructor(
    private readonly identity: { serverId: string; fingerprint: string },
    private readonly home: string,
    /** The input kill switch's current state (input-switch.ts). */
    private readonly inputEnabled: () => boolean = () => true,
  ) {}

  async get(): Promise<ServerInfo> {
    return {
      serverId: this.identity.serverId,
      fingerprint: this.identity.fingerprint,
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      paseoVersion: PASEO_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      capabilities: CAPABILITIES,
      metrics: await this.metrics(),
      time: new Date().toISOString(),
      inputEnabled: this.inputEnabled(),
    };
  }

  private async metrics(): Promise<HostMetrics> {
    const now = sampleCpu();
    const dTotal = now.total - this.lastCpu.total;
    if (dTotal > 0) {
      this.cpuPercent = Math.round(1000 * (1 - (now.idle - this.lastCpu.idle) / dTotal)) / 10;
      this.lastCpu = now;
    }
    // statfs is cheap but not free; a disk figure a few seconds old is fine for a dashboard.
    if (Date.now() - this.diskCheckedAt > 5000) {
      this.diskCheckedAt = Date.now();
      try {
        const s = await statfs(this.home);
        this.disk = { total: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize };
      } catch {
        this.disk = null;
      }
    }
    const [l1, l5, l15] = os.loadavg();
    return {
      cpuPercent: this.cpuPercent,
      memTotal: os.totalmem(),
      memUsed: os.totalmem() - os.freemem(),
      diskUsed: this.disk?.used ?? null,
      diskTotal: this.disk?.total ?? null,
      load: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
      uptimeSec: Math.round(os.uptime()),
    };
  }
}
