/**
 * The daemon card: who this is (host, fingerprint to compare with `paseo daemon pair`, server id, versions), live
 * host metrics, and the "remember this daemon" choice (the only way the offer ever reaches storage).
 */
import type { ServerInfo } from "../../index.js";
import { h, setText } from "../dom.js";
import { bytes, percent, uptime } from "../format.js";

export interface IdentityCard {
  el: HTMLElement;
  update(server: ServerInfo): void;
  setRemembered(on: boolean): void;
}

interface Meter {
  row: HTMLElement;
  meter: HTMLMeterElement;
  value: HTMLElement;
}

function meterRow(label: string, name: string): Meter {
  const meter = h("meter", { attrs: { min: "0", max: "100", low: "70", high: "90", optimum: "0", value: "0" } });
  const value = h("span", { class: "metric-value", text: "–" });
  const row = h(
    "div",
    { class: "metric", attrs: { "data-metric": name } },
    h("span", { class: "metric-label", text: label }),
    meter,
    value,
  );
  return { row, meter, value };
}

function setMeter(m: Meter, pct: number | undefined, text: string): void {
  m.meter.value = pct ?? 0;
  m.row.classList.toggle("unknown", pct === undefined);
  setText(m.value, text);
}

export function createIdentityCard(options: {
  remembered: boolean;
  /** Resolves false when the browser refuses storage. */
  onRemember: (on: boolean) => boolean | Promise<boolean>;
}): IdentityCard {
  const host = h("h2", { class: "daemon-host", text: "…" });
  const platform = h("span", { class: "muted" });
  const fingerprint = h("code", { class: "fingerprint", text: "…" });
  const serverId = h("code", { class: "server-id", text: "…" });
  const versions = h("span", { class: "muted" });
  const cpu = meterRow("CPU", "cpu");
  const mem = meterRow("Memory", "memory");
  const disk = meterRow("Disk", "disk");
  const load = h("span", { class: "metric-value", text: "–" });
  const up = h("span", { class: "metric-value", text: "–" });
  const checkbox = h("input", { attrs: { type: "checkbox", name: "remember" } });
  checkbox.checked = options.remembered;
  const note = h("span", { class: "muted small", text: "" });
  checkbox.addEventListener("change", () => {
    const want = checkbox.checked;
    void Promise.resolve(options.onRemember(want))
      .then(
        (ok) => ok,
        () => false,
      )
      .then((ok) => {
        if (!ok) {
          checkbox.checked = false;
          setText(note, "This browser does not allow storage.");
        } else setText(note, want ? "Saved on this device only." : "");
      });
  });

  const el = h(
    "section",
    { class: "card identity", attrs: { "aria-label": "Daemon" } },
    h("div", { class: "identity-head" }, host, platform),
    h(
      "dl",
      { class: "facts" },
      h("dt", { text: "Fingerprint" }),
      h("dd", {}, fingerprint, h("span", { class: "muted small hint", text: "compare with `paseo daemon pair`" })),
      h("dt", { text: "Server id" }),
      h("dd", {}, serverId),
      h("dt", { text: "Version" }),
      h("dd", {}, versions),
    ),
    h(
      "div",
      { class: "metrics", attrs: { "aria-label": "Host metrics" } },
      cpu.row,
      mem.row,
      disk.row,
      h(
        "div",
        { class: "metric", attrs: { "data-metric": "load" } },
        h("span", { class: "metric-label", text: "Load" }),
        load,
      ),
      h(
        "div",
        { class: "metric", attrs: { "data-metric": "uptime" } },
        h("span", { class: "metric-label", text: "Uptime" }),
        up,
      ),
    ),
    h("label", { class: "remember" }, checkbox, " Remember this daemon on this device", note),
  );

  return {
    el,
    setRemembered(on) {
      checkbox.checked = on;
    },
    update(s) {
      setText(host, s.hostname);
      setText(platform, `${s.platform}/${s.arch}`);
      setText(fingerprint, s.fingerprint);
      setText(serverId, s.serverId);
      setText(versions, `paseo ${s.paseoVersion} · protocol ${s.protocolVersion}`);
      const m = s.metrics;
      setMeter(cpu, m.cpuPercent, `${Math.round(m.cpuPercent)}%`);
      setMeter(mem, percent(m.memUsed, m.memTotal), `${bytes(m.memUsed)} / ${bytes(m.memTotal)}`);
      const d = percent(m.diskUsed, m.diskTotal);
      setMeter(disk, d, d === undefined ? "unknown" : `${bytes(m.diskUsed)} / ${bytes(m.diskTotal)}`);
      setText(load, m.load.map((l) => l.toFixed(2)).join("  "));
      setText(up, uptime(m.uptimeSec));
    },
  };
}
