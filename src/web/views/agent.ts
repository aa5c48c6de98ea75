/**
 * One agent: its status, live output (follow: resumes from the last sequence number after a reconnect, so no
 * line is lost or repeated), an input line, and a two-step Stop.
 */
import type { AgentInfo, DaemonClient } from "../../index.js";
import { h, replace, setText, flag } from "../dom.js";
import { explain } from "../errors.js";
import { agentStatus, age } from "../format.js";
import { errorBlock } from "./banner.js";
import { createOutputPane } from "./output.js";

export interface AgentView {
  el: HTMLElement;
  readonly id: string;
  update(agent: AgentInfo): void;
  /** Not live: the state reads "last seen …" and Stop and input are disabled until the connection is back. */
  setLive(live: boolean): void;
  dispose(): void;
}

/** Resolves once the client is connected again (or rejects when `signal` aborts or the client gives up). */
function whenConnected(client: DaemonClient, signal: AbortSignal): Promise<void> {
  if (client.state === "connected") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      off();
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => done(() => reject(new Error("aborted")));
    const off = client.on("state", (s) => {
      if (s === "connected") done(resolve);
      else if (s === "closed") done(() => reject(new Error("closed")));
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function createAgentView(client: DaemonClient, initial: AgentInfo, options: { onBack: () => void; onChanged: () => void; live: boolean }): AgentView {
  let agent = initial;
  let live = options.live;
  let stopping = false;
  let sending = false;
  const abort = new AbortController();
  const output = createOutputPane();
  const title = h("h2", { class: "agent-title", text: agent.name });
  const status = h("span", { class: "badge" });
  const meta = h("p", { class: "agent-meta muted" });
  const command = h("code", { class: "agent-command" });
  const streamState = h("p", { class: "stream-state muted", attrs: { role: "status", "aria-live": "polite" } });
  const errors = h("div", { class: "inline-errors" });

  // Stop: first click arms, second click (within 4 s) stops — no blocking confirm() dialogs.
  const stop = h("button", { class: "danger small", text: "Stop", attrs: { type: "button", "data-action": "stop" } });
  let armed: ReturnType<typeof setTimeout> | undefined;
  const disarm = () => {
    if (armed) clearTimeout(armed);
    armed = undefined;
    stop.classList.remove("armed");
    setText(stop, "Stop");
  };
  stop.addEventListener("click", () => {
    if (!armed) {
      stop.classList.add("armed");
      setText(stop, "Confirm stop");
      armed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    if (!live) return;
    stopping = true;
    syncActions();
    setText(stop, "Stopping…");
    client.stopAgent(agent.id).then(
      (a) => {
        stopping = false;
        render(a);
        options.onChanged();
      },
      (err) => {
        stopping = false;
        syncActions();
        setText(stop, "Stop");
        showError(err);
      },
    );
  });

  // Input: one line per send, with Enter appended unless unticked.
  const input = h("input", { class: "input-line", attrs: { type: "text", name: "input", autocomplete: "off", autocapitalize: "off", spellcheck: "false", placeholder: "Send input to the agent…", "aria-label": "Input" } });
  const enter = h("input", { attrs: { type: "checkbox", name: "newline" } });
  enter.checked = true;
  const send = h("button", { class: "primary small", text: "Send", attrs: { type: "submit" } });
  const form = h(
    "form",
    { class: "input-form", attrs: { autocomplete: "off" } },
    input,
    send,
    h("label", { class: "small muted newline" }, enter, " + Enter"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value + (enter.checked ? "\n" : "");
    if (text === "" || !live) return;
    sending = true;
    syncActions();
    client.sendInput(agent.id, text).then(
      () => {
        input.value = "";
        sending = false;
        syncActions();
        input.focus();
      },
      (err) => {
        sending = false;
        syncActions();
        showError(err);
      },
    );
  });

  const el = h(
    "section",
    { class: "card agent-view", attrs: { "data-id": agent.id, "aria-label": `Agent ${agent.name}` } },
    h("button", { class: "ghost small back", text: "← Agents", attrs: { type: "button" }, on: { click: options.onBack } }),
    h("div", { class: "card-head nowrap" }, title, status, h("span", { class: "spacer" }), stop),
    command,
    meta,
    errors,
    streamState,
    output.el,
    form,
  );

  function showError(err: unknown): void {
    const e = explain(err);
    replace(errors, errorBlock(e));
  }

  function renderMeta(a: AgentInfo): void {
    const ended = a.endedAt ? ` · ended ${age(a.endedAt)}` : "";
    setText(meta, `${a.id} · ${a.pid === null ? "" : `pid ${a.pid} · `}started ${age(a.startedAt)}${ended} · ${a.cwd}`);
  }

  function render(a: AgentInfo): void {
    agent = a;
    el.setAttribute("data-state", a.state);
    setText(title, a.name);
    setText(status, live ? agentStatus(a) : `last seen ${agentStatus(a)}`);
    status.setAttribute("data-state", a.state);
    flag(status, "data-stale", !live);
    setText(command, a.argv.join(" "));
    command.setAttribute("title", a.argv.join(" "));
    renderMeta(a);
    syncActions();
  }

  /** Actions need a running agent and a live connection; while one is in flight its button stays disabled. */
  function syncActions(): void {
    const running = agent.state === "running";
    flag(stop, "hidden", !running);
    if (!live) disarm();
    stop.disabled = !live || stopping;
    stop.title = live ? "" : "Not connected: wait for the connection to come back";
    input.disabled = !running || !live;
    send.disabled = !running || !live || sending;
    enter.disabled = !running || !live;
  }
  render(agent);

  async function follow(): Promise<void> {
    const signal = abort.signal;
    let since = 1;
    for (;;) {
      try {
        setText(streamState, "Following output…");
        for await (const chunk of client.logs(agent.id, { since, follow: true, signal })) {
          if (signal.aborted) return;
          since = chunk.seq + 1;
          output.append(chunk);
          if (streamState.textContent !== "Following output…") setText(streamState, "Following output…");
        }
        if (signal.aborted) return;
        const final = await client.getAgent(agent.id).catch(() => agent);
        render(final);
        output.note(`agent ${agentStatus(final)}`);
        setText(streamState, "The agent has ended; this is all of its output.");
        options.onChanged();
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = explain(err);
        if (!e.transient) {
          setText(streamState, "Output stopped.");
          showError(err);
          return;
        }
        setText(streamState, "Connection lost — output resumes where it stopped when the connection is back…");
        try {
          await whenConnected(client, signal);
        } catch {
          return;
        }
      }
    }
  }
  void follow();

  return {
    el,
    get id() {
      return agent.id;
    },
    update(a) {
      if (a.id !== agent.id) return;
      const changed = a.state !== agent.state || a.pid !== agent.pid || a.name !== agent.name;
      agent = a;
      if (changed) render(a);
      else renderMeta(a);
    },
    setLive(on) {
      if (on === live) return;
      live = on;
      render(agent);
    },
    dispose() {
      abort.abort();
      disarm();
      output.dispose();
    },
  };
}
