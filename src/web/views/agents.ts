/**
 * The agent list: one row per agent with name, status, id, command and age, refreshed in place (keyed by id) so
 * a refresh never steals a click or focus. Running agents first, then the most recent.
 */
import type { AgentInfo } from "../../index.js";
import { flag, h, setText } from "../dom.js";
import { age, agentStatus } from "../format.js";

export interface AgentList {
  el: HTMLElement;
  update(agents: AgentInfo[]): void;
  select(id: string | undefined): void;
  /** Not live: states read "last seen …" and "New agent" is disabled until the connection is back. */
  setLive(live: boolean): void;
  /** A read-only session gets no "New agent" (the daemon would refuse agents.run with FORBIDDEN). */
  setControl(control: boolean): void;
}

interface Row {
  el: HTMLLIElement;
  name: HTMLElement;
  status: HTMLElement;
  meta: HTMLElement;
  command: HTMLElement;
  agent: AgentInfo;
}

function mark(el: Element, on: boolean): void {
  if (on) el.setAttribute("aria-current", "true");
  else el.removeAttribute("aria-current");
}

function order(a: AgentInfo, b: AgentInfo): number {
  const ra = a.state === "running" ? 0 : 1;
  const rb = b.state === "running" ? 0 : 1;
  return ra - rb || Date.parse(b.startedAt) - Date.parse(a.startedAt);
}

const EMPTY_TEXT = "No agents yet. Start one with “New agent”, or `paseo run` on the daemon machine.";
const EMPTY_TEXT_READ_ONLY =
  "No agents yet. This device is read-only: agents are started with `paseo run` on the daemon machine.";

export function createAgentList(options: { onOpen: (agent: AgentInfo) => void; onNew: () => void }): AgentList {
  const rows = new Map<string, Row>();
  const list = h("ul", { class: "agent-list", attrs: { "aria-label": "Agents" } });
  const empty = h("p", { class: "empty muted", text: EMPTY_TEXT });
  const count = h("span", { class: "count muted", text: "" });
  let selected: string | undefined;
  let loaded = false;
  let live = false;
  const newButton = h("button", {
    class: "primary small",
    text: "New agent",
    attrs: { type: "button", "data-action": "new", disabled: true },
    on: { click: options.onNew },
  });

  const el = h(
    "section",
    { class: "card agents" },
    h("div", { class: "card-head" }, h("h2", { text: "Agents" }), count, h("span", { class: "spacer" }), newButton),
    list,
  );

  const makeRow = (agent: AgentInfo): Row => {
    const name = h("span", { class: "agent-name" });
    const status = h("span", { class: "badge" });
    const kind = agent.tty
      ? h("span", {
          class: "badge kind-badge",
          text: "terminal",
          attrs: { title: "Runs in a terminal: opens as an interactive terminal" },
        })
      : null;
    const meta = h("span", { class: "agent-meta muted" });
    const command = h("code", { class: "agent-command" });
    const button = h(
      "button",
      { class: "agent-open", attrs: { type: "button" } },
      h("span", { class: "agent-line" }, name, status, kind),
      command,
      meta,
    );
    const li = h("li", { class: "agent", attrs: { "data-id": agent.id } }, button);
    const row: Row = { el: li, name, status, meta, command, agent };
    button.addEventListener("click", () => options.onOpen(row.agent));
    return row;
  };

  const fill = (row: Row, a: AgentInfo): void => {
    row.agent = a;
    row.el.setAttribute("data-state", a.state);
    row.el.setAttribute("data-name", a.name);
    setText(row.name, a.name);
    setText(row.status, live ? agentStatus(a) : `last seen ${agentStatus(a)}`);
    row.status.setAttribute("data-state", a.state);
    row.status.title = a.reason ?? "";
    flag(row.status, "data-stale", !live);
    setText(row.command, a.argv.join(" "));
    setText(row.meta, `${a.id} · ${a.pid === null ? "" : `pid ${a.pid} · `}started ${age(a.startedAt)}`);
    mark(row.el, a.id === selected);
  };

  return {
    el,
    update(agents) {
      loaded = true;
      const sorted = [...agents].sort(order);
      const seen = new Set<string>();
      sorted.forEach((a, index) => {
        seen.add(a.id);
        let row = rows.get(a.id);
        if (!row) {
          row = makeRow(a);
          rows.set(a.id, row);
        }
        fill(row, a);
        if (list.children[index] !== row.el) list.insertBefore(row.el, list.children[index] ?? null);
      });
      for (const [id, row] of rows) {
        if (!seen.has(id)) {
          row.el.remove();
          rows.delete(id);
        }
      }
      const running = agents.filter((a) => a.state === "running").length;
      setText(count, `${running} running · ${agents.length} total`);
      if (agents.length === 0 && loaded) {
        if (!empty.isConnected) list.after(empty);
      } else empty.remove();
    },
    setLive(on) {
      if (on === live) return;
      live = on;
      newButton.disabled = !on;
      for (const row of rows.values()) fill(row, row.agent);
    },
    setControl(on) {
      flag(newButton, "hidden", !on);
      setText(empty, on ? EMPTY_TEXT : EMPTY_TEXT_READ_ONLY);
    },
    select(id) {
      selected = id;
      for (const [rid, row] of rows) mark(row.el, rid === id);
    },
  };
}
