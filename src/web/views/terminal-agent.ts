/**
 * A terminal agent in a real terminal: xterm.js attached through the SDK (`client.attach` → TerminalSession, the
 * same one `paseo attach` uses): the screen snapshot, then live output; keys, paste and Ctrl-C go to the program
 * while this page holds the writer lane. One writer per agent, any number of watchers (docs/protocol.md
 * "Terminals"): the switch says which lane this page is in — "Take control" takes the lane (the other writer is told
 * and watches), "Watch" gives it up. The writer's size wins: as writer the terminal fits the panel and resizes the
 * agent's PTY; as a watcher it shows the agent's size. On phones an extra-keys bar adds Esc, Tab, Ctrl and arrows.
 * While the connection is down the terminal is read-only and marked stale; the SDK re-attaches from the last byte.
 * A read-only device attaches as a watcher for good (no "Take control"); while the daemon's input kill switch is off
 * the writer's keys are not sent (the lane itself may still be taken).
 */
import type { AgentInfo, DaemonClient, LaneChange, TerminalSession } from "../../index.js";
import type { Access } from "../access.js";
import { h, flag, setText } from "../dom.js";
import { agentStatus } from "../format.js";
import { createTermPanel } from "../term/xterm.js";
import { createAgentHead } from "./agent-head.js";
import type { AgentView, AgentViewOptions } from "./agent.js";
import { createExtraKeys } from "./extra-keys.js";

/** Which lane this page is in, as the view shows it. */
type LaneView = "attaching" | "writer" | "watcher" | "ended" | "failed";

const LANE_TEXT: Record<LaneView, (writerElsewhere: boolean, taken: boolean) => string> = {
  attaching: () => "Attaching…",
  writer: () => "You have control: keys, paste and size go to the program.",
  watcher: (other, taken) =>
    taken && other
      ? "Another client took control: you are watching now."
      : other
        ? "Watching: another client has control."
        : "Watching: nobody has control.",
  ended: () => "The agent has ended; this is its last screen.",
  failed: () => "The terminal stopped (see above).",
};

export function createTerminalAgentView(
  client: DaemonClient,
  initial: AgentInfo,
  options: AgentViewOptions,
): AgentView {
  let session: TerminalSession | undefined;
  let disposed = false;
  let view: LaneView = "attaching";
  let switching = false;
  let takenFromUs = false;
  let access: Access = options.access;
  /** Attached with readOnly (a read-only device): this attachment can never take the writer lane. */
  const watchOnly = !access.control;
  const panel = createTermPanel({ className: "terminal", label: `Terminal of ${initial.name}`, readOnly: false });
  const term = panel.term;
  const laneButton = h("button", {
    class: "small lane-switch",
    attrs: { type: "button", "data-action": "lane", hidden: true },
  });
  const laneState = h("p", { class: "lane-state muted", attrs: { role: "status", "aria-live": "polite" } });
  const keys = createExtraKeys({
    send: (d) => sendKeys(d, false),
    applicationCursor: () => term.modes.applicationCursorKeysMode,
  });

  const head = createAgentHead(client, initial, {
    live: options.live,
    control: access.control,
    extra: [laneButton],
    onBack: options.onBack,
    onStopped: options.onChanged,
    onRender: (a) => el.setAttribute("data-state", a.state),
  });
  const el = h(
    "section",
    {
      class: "card agent-view",
      attrs: {
        "data-id": initial.id,
        "data-kind": "terminal",
        "data-lane": view,
        "aria-label": `Agent ${initial.name}`,
      },
    },
    ...head.nodes,
    laneState,
    h("div", { class: "output-wrap" }, panel.el),
    keys.el,
  );
  head.render(initial);

  /** Keys reach the program only from the writer, over a live connection, while input is allowed. */
  const canWrite = () => view === "writer" && head.live && session?.state === "attached" && access.input;

  function sendKeys(data: string, fromKeyboard: boolean): void {
    if (!session || !canWrite()) return;
    const out = fromKeyboard ? keys.transform(data) : data;
    session.write(out).catch((err) => head.showError(err));
  }

  /** Everything that depends on the lane and the connection, in one place. */
  function apply(): void {
    if (disposed) return;
    const s = session;
    if (s && view !== "ended" && view !== "failed") view = s.lane === "writer" ? "writer" : "watcher";
    el.setAttribute("data-lane", view);
    let text = LANE_TEXT[view](s?.writer === true && view !== "writer", takenFromUs);
    if (watchOnly && view === "watcher") text = "Watching only: this device is read-only.";
    else if (!access.input && view === "writer") text = "Input is turned off on the daemon: keys are not sent.";
    setText(laneState, text);
    const writing = canWrite();
    term.options.disableStdin = !writing;
    term.options.cursorBlink = writing;
    keys.setEnabled(writing);
    flag(laneButton, "hidden", (view !== "writer" && view !== "watcher") || watchOnly || !access.control);
    setText(laneButton, view === "writer" ? "Watch" : "Take control");
    laneButton.title =
      view === "writer"
        ? "Give up control and keep watching"
        : "Take control of this terminal (the current writer becomes a watcher)";
    laneButton.disabled = !head.live || switching || s?.state !== "attached";
    // The writer's size wins: the writer fits its panel (and tells the agent); a watcher shows the agent's size.
    if (view === "writer") {
      panel.setFixedSize(undefined);
      const size = panel.fit();
      if (size) resizeAgent(size);
    } else if (s && s.cols > 0 && s.rows > 0) {
      panel.setFixedSize({ cols: s.cols, rows: s.rows });
    }
  }

  term.onData((data) => sendKeys(data, true));
  // Mouse reports and the like arrive as binary strings (one char per byte).
  term.onBinary((data) => {
    if (!session || !canWrite()) return;
    session.write(Uint8Array.from(data, (c) => c.charCodeAt(0))).catch((err) => head.showError(err));
  });
  /** Tell the agent the writer's size (once per distinct size: apply() runs on every event). */
  let sentSize = "";
  function resizeAgent(size: { cols: number; rows: number }): void {
    const s = session;
    if (!s || !canWrite()) return;
    const key = `${size.cols}x${size.rows}`;
    if (key === sentSize || (size.cols === s.cols && size.rows === s.rows)) return;
    sentSize = key;
    s.resize(size.cols, size.rows).then(
      () => {
        sentSize = "";
      },
      () => {
        sentSize = "";
      },
    );
  }
  panel.onResize((size) => {
    if (view === "writer") resizeAgent(size);
  });

  laneButton.addEventListener("click", () => {
    const s = session;
    if (!s || switching) return;
    switching = true;
    apply();
    takenFromUs = false;
    (view === "writer" ? s.release() : s.take()).then(
      () => {
        switching = false;
        head.clearError();
        apply();
        if (view === "writer") term.focus();
      },
      (err) => {
        switching = false;
        head.showError(err);
        apply();
      },
    );
  });

  function ended(agent: AgentInfo): void {
    view = "ended";
    head.render(agent);
    term.write(`\r\n\x1b[0;3;38;5;111m— agent ${agentStatus(agent)} —\x1b[0m\r\n`);
    apply();
    options.onChanged();
  }

  async function attach(): Promise<void> {
    const size = panel.fit() ?? { cols: initial.cols ?? 80, rows: initial.rows ?? 24 };
    let s: TerminalSession;
    try {
      s = await client.attach(initial.id, {
        cols: size.cols,
        rows: size.rows,
        ...(watchOnly ? { readOnly: true } : {}),
      });
    } catch (err) {
      if (disposed) return;
      view = "failed";
      head.showError(err);
      apply();
      return;
    }
    if (disposed) {
      void s.detach();
      return;
    }
    session = s;
    // The snapshot reproduces the screen when written to a terminal of its own size: take that size first (a
    // writer then fits the panel again, and the program redraws on its SIGWINCH).
    if (s.screen) panel.setFixedSize({ cols: s.screen.cols, rows: s.screen.rows });
    s.onData((data) => term.write(data));
    s.on("lane", (change: LaneChange) => {
      // Say so when control was taken from this page (until this page's lane changes again).
      takenFromUs = change.reason === "taken";
      apply();
    });
    s.on("resize", () => apply());
    s.on("state", () => apply());
    s.on("exit", (agent) => ended(agent));
    s.done.then(
      (agent) => {
        if (agent && view !== "ended") ended(agent);
      },
      (err) => {
        if (disposed) return;
        view = "failed";
        head.showError(err);
        apply();
      },
    );
    if (s.agent) head.render(s.agent);
    apply();
    if (view === "writer") term.focus();
  }
  // Attach once the panel is in the page (the controller inserts the view right after creating it): its size is
  // what the agent's terminal is set to.
  queueMicrotask(() => void attach());

  return {
    el,
    id: initial.id,
    update(a) {
      if (a.id === initial.id) head.update(a);
    },
    setLive(on) {
      head.setLive(on);
      apply();
    },
    setAccess(a) {
      access = a;
      head.setControl(a.control);
      // Rights taken away while holding the lane: give it up (the daemon would refuse the keys anyway).
      if (!a.control && session?.lane === "writer") void session.release().then(apply, apply);
      apply();
    },
    dispose() {
      disposed = true;
      void session?.detach();
      head.dispose();
      panel.dispose();
    },
  };
}
