/**
 * Start a new agent: a shell command line (run with /bin/sh -c on the daemon), an optional name and directory, and
 * how it runs — in a terminal (the default: interactive programs such as coding agents, editors and shells need
 * one; the view is a real terminal) or as a plain command with pipes (logs, builds: output plus a line of input).
 */
import type { AgentInfo, DaemonClient } from "../../index.js";
import { h, replace } from "../dom.js";
import { explain } from "../errors.js";
import { errorBlock } from "./banner.js";

export interface NewAgentForm {
  el: HTMLElement;
  /** Not live: Start is disabled (a request now would only wait for the reconnect). */
  setLive(live: boolean): void;
}

export function createNewAgentForm(
  client: DaemonClient,
  options: { live: boolean; onStarted: (agent: AgentInfo) => void; onCancel: () => void },
): NewAgentForm {
  const field = (label: string, input: HTMLInputElement, hint?: string) =>
    h(
      "label",
      { class: "field" },
      h("span", { class: "field-label", text: label }),
      input,
      hint ? h("span", { class: "muted small", text: hint }) : null,
    );
  const command = h("input", {
    attrs: {
      type: "text",
      name: "command",
      required: true,
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      placeholder: "e.g. claude, bash, npm test",
    },
  });
  const name = h("input", {
    attrs: { type: "text", name: "name", autocomplete: "off", maxlength: "128", placeholder: "optional" },
  });
  const cwd = h("input", {
    attrs: {
      type: "text",
      name: "cwd",
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      placeholder: "optional — default: home directory; ~/project works",
    },
  });
  const kind = (value: "terminal" | "plain", label: string, hint: string, checked: boolean) => {
    const radio = h("input", { attrs: { type: "radio", name: "kind", value } });
    radio.checked = checked;
    return h(
      "label",
      { class: "kind" },
      radio,
      h("span", {}, h("strong", { text: label }), h("span", { class: "muted small", text: ` — ${hint}` })),
    );
  };
  const kinds = h(
    "fieldset",
    { class: "field kinds" },
    h("legend", { class: "field-label", text: "Run in" }),
    kind("terminal", "Terminal", "interactive: coding agents, shells, editors (keys, colours, full screen)", true),
    kind("plain", "Plain command", "pipes: output log and a line of input (builds, servers, scripts)", false),
  );
  const errors = h("div", { class: "inline-errors" });
  const submit = h("button", { class: "primary", text: "Start", attrs: { type: "submit" } });
  const form = h(
    "form",
    { class: "card new-agent", attrs: { "aria-label": "New agent", autocomplete: "off" } },
    h("button", {
      class: "ghost small back",
      text: "← Agents",
      attrs: { type: "button" },
      on: { click: options.onCancel },
    }),
    h("div", { class: "card-head" }, h("h2", { text: "New agent" })),
    field("Command", command, "Runs with /bin/sh -c on the daemon machine."),
    kinds,
    field("Name", name),
    field("Working directory", cwd),
    errors,
    h(
      "div",
      { class: "actions" },
      submit,
      h("button", { class: "ghost", text: "Cancel", attrs: { type: "button" }, on: { click: options.onCancel } }),
    ),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const line = command.value.trim();
    if (line === "") return;
    if (!live) return;
    busy = true;
    sync();
    errors.replaceChildren();
    client
      .runAgent({
        argv: [line],
        shell: true,
        // A terminal starts at the default size; the view sizes it to the panel when it attaches (writer's size wins).
        ...(form.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value === "plain" ? {} : { tty: true }),
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
        ...(cwd.value.trim() ? { cwd: cwd.value.trim() } : {}),
      })
      .then(
        (agent) => options.onStarted(agent),
        (err) => {
          busy = false;
          sync();
          replace(errors, errorBlock(explain(err)));
        },
      );
  });
  queueMicrotask(() => command.focus());
  let live = options.live;
  let busy = false;
  const sync = () => {
    submit.disabled = busy || !live;
  };
  sync();
  return {
    el: form,
    setLive(on) {
      live = on;
      sync();
    },
  };
}
