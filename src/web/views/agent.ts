/**
 * A pipe agent: its status, live output in a read-only terminal view (follow: resumes from the last sequence
 * number after a reconnect, so no line is lost or repeated), an input line, and a two-step Stop. Terminal agents
 * get views/terminal-agent.ts instead; `createAgentView` picks.
 */
import type { AgentInfo, DaemonClient } from "../../index.js";
import type { Access } from "../access.js";
import { flag, h, setText } from "../dom.js";
import { explain } from "../errors.js";
import { agentStatus } from "../format.js";
import { createAgentHead } from "./agent-head.js";
import { createOutputPane } from "./output.js";
import { createTerminalAgentView } from "./terminal-agent.js";

export interface AgentView {
  el: HTMLElement;
  readonly id: string;
  update(agent: AgentInfo): void;
  /** Not live: the state reads "last seen …" and Stop and input are disabled until the connection is back. */
  setLive(live: boolean): void;
  /** Rights or the kill switch changed: read-only hides Stop and input; input off disables typing. */
  setAccess(access: Access): void;
  dispose(): void;
}

export interface AgentViewOptions {
  onBack: () => void;
  onChanged: () => void;
  live: boolean;
  access: Access;
}

/** Resolves once the client is connected again (or rejects when `signal` aborts or the client gives up). */
export function whenConnected(client: DaemonClient, signal: AbortSignal): Promise<void> {
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

/** The view for an agent: a terminal for terminal agents, output + input line for pipe agents. */
export function createAgentView(client: DaemonClient, agent: AgentInfo, options: AgentViewOptions): AgentView {
  return agent.tty ? createTerminalAgentView(client, agent, options) : createPipeAgentView(client, agent, options);
}

function createPipeAgentView(client: DaemonClient, initial: AgentInfo, options: AgentViewOptions): AgentView {
  let sending = false;
  let access = options.access;
  const abort = new AbortController();
  const output = createOutputPane();
  const streamState = h("p", { class: "stream-state muted", attrs: { role: "status", "aria-live": "polite" } });

  // Input: one line per send, with Enter appended unless unticked.
  const input = h("input", {
    class: "input-line",
    attrs: {
      type: "text",
      name: "input",
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      placeholder: "Send input to the agent…",
      "aria-label": "Input",
    },
  });
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

  /**
   * Input needs a running agent, a live connection and input allowed (not read-only, kill switch on); while a send
   * is in flight its button stays disabled. A read-only session has no input line at all.
   */
  const syncInput = (a: AgentInfo, live: boolean) => {
    const open = a.state === "running" && live && access.input;
    input.disabled = !open;
    send.disabled = !open || sending;
    enter.disabled = !open;
    flag(form, "hidden", !access.control);
    input.placeholder =
      access.control && !access.input ? "Input is turned off on the daemon" : "Send input to the agent…";
  };
  const head = createAgentHead(client, initial, {
    live: options.live,
    control: access.control,
    onBack: options.onBack,
    onStopped: options.onChanged,
    onRender: (a, live) => {
      el.setAttribute("data-state", a.state);
      syncInput(a, live);
    },
  });
  const el = h(
    "section",
    {
      class: "card agent-view",
      attrs: { "data-id": initial.id, "data-kind": "pipe", "aria-label": `Agent ${initial.name}` },
    },
    ...head.nodes,
    streamState,
    output.el,
    form,
  );
  head.render(initial);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value + (enter.checked ? "\n" : "");
    if (text === "" || !head.live) return;
    sending = true;
    syncInput(head.agent, head.live);
    client.sendInput(head.agent.id, text).then(
      () => {
        input.value = "";
        sending = false;
        syncInput(head.agent, head.live);
        input.focus();
      },
      (err) => {
        sending = false;
        syncInput(head.agent, head.live);
        head.showError(err);
      },
    );
  });

  async function follow(): Promise<void> {
    const signal = abort.signal;
    let since = 1;
    for (;;) {
      try {
        setText(streamState, "Following output…");
        for await (const chunk of client.logs(initial.id, { since, follow: true, signal })) {
          if (signal.aborted) return;
          since = chunk.seq + 1;
          output.append(chunk);
          if (streamState.textContent !== "Following output…") setText(streamState, "Following output…");
        }
        if (signal.aborted) return;
        const final = await client.getAgent(initial.id).catch(() => head.agent);
        head.render(final);
        output.note(`agent ${agentStatus(final)}`);
        setText(streamState, "The agent has ended; this is all of its output.");
        options.onChanged();
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (!explain(err).transient) {
          setText(streamState, "Output stopped.");
          head.showError(err);
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
    id: initial.id,
    update(a) {
      if (a.id === initial.id) head.update(a);
    },
    setLive(on) {
      head.setLive(on);
    },
    setAccess(a) {
      access = a;
      head.setControl(a.control);
      syncInput(head.agent, head.live);
    },
    dispose() {
      abort.abort();
      head.dispose();
      output.dispose();
    },
  };
}
