/**
 * What every agent view shows above its output: back link, name, state badge (marked "last seen" while not live),
 * command line, id/pid/age/cwd, the inline error slot, and the two-step Stop (first click arms, second click within
 * 4 s stops — no blocking confirm() dialogs). Stop needs a running agent and a live connection.
 */
import type { AgentInfo, DaemonClient } from "../../index.js";
import { flag, h, replace, setText } from "../dom.js";
import { explain } from "../errors.js";
import { agentStatus, age } from "../format.js";
import { errorBlock } from "./banner.js";

export interface AgentHead {
  /** Back link, title row (with `extra` before Stop), command, meta and errors, to place at the top of a view. */
  nodes: HTMLElement[];
  readonly agent: AgentInfo;
  readonly live: boolean;
  render(agent: AgentInfo): void;
  renderMeta(agent: AgentInfo): void;
  /** A newer AgentInfo of this agent: re-render the title row only when what it shows changed, else just the meta. */
  update(agent: AgentInfo): void;
  setLive(live: boolean): void;
  /** A read-only session: no Stop (agents.stop would be refused with FORBIDDEN). */
  setControl(control: boolean): void;
  showError(err: unknown): void;
  clearError(): void;
  dispose(): void;
}

export function createAgentHead(
  client: DaemonClient,
  initial: AgentInfo,
  options: {
    live: boolean;
    control: boolean;
    extra?: HTMLElement[];
    onBack: () => void;
    onStopped: () => void;
    onRender: (agent: AgentInfo, live: boolean) => void;
  },
): AgentHead {
  let agent = initial;
  let live = options.live;
  let control = options.control;
  let stopping = false;
  const title = h("h2", { class: "agent-title", text: agent.name });
  const status = h("span", { class: "badge" });
  const meta = h("p", { class: "agent-meta muted" });
  const command = h("code", { class: "agent-command" });
  const errors = h("div", { class: "inline-errors" });
  const stop = h("button", { class: "danger small", text: "Stop", attrs: { type: "button", "data-action": "stop" } });

  let armed: ReturnType<typeof setTimeout> | undefined;
  const disarm = () => {
    if (armed) clearTimeout(armed);
    armed = undefined;
    stop.classList.remove("armed");
    if (!stopping) setText(stop, "Stop");
  };
  stop.addEventListener("click", () => {
    if (!armed) {
      stop.classList.add("armed");
      setText(stop, "Confirm stop");
      armed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    if (!live || !control) return;
    stopping = true;
    syncStop();
    setText(stop, "Stopping…");
    client.stopAgent(agent.id).then(
      (a) => {
        stopping = false;
        head.render(a);
        options.onStopped();
      },
      (err) => {
        stopping = false;
        setText(stop, "Stop");
        syncStop();
        head.showError(err);
      },
    );
  });

  function syncStop(): void {
    flag(stop, "hidden", agent.state !== "running" || !control);
    if (!live) disarm();
    stop.disabled = !live || stopping;
    stop.title = live ? "" : "Not connected: wait for the connection to come back";
  }

  const head: AgentHead = {
    nodes: [
      h("button", {
        class: "ghost small back",
        text: "← Agents",
        attrs: { type: "button" },
        on: { click: options.onBack },
      }),
      h(
        "div",
        { class: "card-head nowrap" },
        title,
        status,
        h("span", { class: "spacer" }),
        ...(options.extra ?? []),
        stop,
      ),
      command,
      meta,
      errors,
    ],
    get agent() {
      return agent;
    },
    get live() {
      return live;
    },
    render(a) {
      agent = a;
      setText(title, a.name);
      setText(status, live ? agentStatus(a) : `last seen ${agentStatus(a)}`);
      status.setAttribute("data-state", a.state);
      status.title = a.reason ?? ""; // e.g. why an agent is "lost"
      flag(status, "data-stale", !live);
      setText(command, a.argv.join(" "));
      command.setAttribute("title", a.argv.join(" "));
      head.renderMeta(a);
      syncStop();
      options.onRender(a, live);
    },
    update(a) {
      if (a.state !== agent.state || a.pid !== agent.pid || a.name !== agent.name) head.render(a);
      else head.renderMeta(a);
    },
    renderMeta(a) {
      const ended = a.endedAt ? ` · ended ${age(a.endedAt)}` : "";
      const size = a.tty && a.cols !== null ? ` · terminal ${a.cols}×${a.rows}` : "";
      setText(
        meta,
        `${a.id} · ${a.pid === null ? "" : `pid ${a.pid} · `}started ${age(a.startedAt)}${ended}${size} · ${a.cwd}`,
      );
    },
    setLive(on) {
      if (on === live) return;
      live = on;
      head.render(agent);
    },
    setControl(on) {
      if (on === control) return;
      control = on;
      syncStop();
    },
    showError(err) {
      replace(errors, errorBlock(explain(err)));
    },
    clearError() {
      errors.replaceChildren();
    },
    dispose() {
      disarm();
    },
  };
  return head;
}
