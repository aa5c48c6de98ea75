/**
 * A connected daemon's screen: one DaemonClient (reconnect on, the browser's own WebSocket), the top bar, the
 * connection banner, the daemon card, the agent list (refreshed every 2 s while connected) and the detail pane
 * (an agent's output or the new-agent form). Polls pause while the tab is hidden. `dispose()` closes the client,
 * every timer and listener.
 */
import { DaemonClient, type AgentInfo, type Offer, type ServerInfo } from "../index.js";
import { flag, h, replace } from "./dom.js";
import { explain } from "./errors.js";
import { forget, isRemembered, remember } from "./offer-source.js";
import { createBanner } from "./views/banner.js";
import { createAgentView, type AgentView } from "./views/agent.js";
import { createAgentList } from "./views/agents.js";
import { createIdentityCard } from "./views/identity.js";
import { createNewAgentForm, type NewAgentForm } from "./views/new-agent.js";
import { createStaleNotice } from "./views/stale.js";
import { createTopbar } from "./views/topbar.js";

const AGENTS_EVERY_MS = 2000;
const METRICS_EVERY_MS = 5000;

export interface DaemonScreen {
  el: HTMLElement;
  readonly client: DaemonClient;
  dispose(): void;
}

export interface DaemonScreenOptions {
  remember: boolean;
  onLeave: () => void;
  /**
   * The link cannot work any more (revoked, expired, wrong secret …): the client has given up. The caller replaces
   * this screen with one page that says why — a dashboard of stale data with enabled buttons would only mislead.
   */
  onFatal: (err: unknown) => void;
}

export function openDaemonScreen(offer: Offer, options: DaemonScreenOptions): DaemonScreen {
  const client = new DaemonClient({ offer, reconnect: true });
  let disposed = false;
  let agents: AgentInfo[] = [];
  let detail: AgentView | undefined;
  let form: NewAgentForm | undefined;
  /** The last connection error, to tell why the client gave up when it goes idle. */
  let lastError: unknown;
  let everConnected = false;
  /** When the agent list was last known to be true (shown while stale). */
  let freshAt = new Date();
  let fatal = false;

  const topbar = createTopbar({ onSwitch: () => options.onLeave() });
  const banner = createBanner();
  const stale = createStaleNotice();
  const rememberNow = (server?: ServerInfo) =>
    remember(offer, server ? { name: server.hostname, fingerprint: server.fingerprint } : {});
  if (options.remember) rememberNow();
  const identity = createIdentityCard({
    remembered: options.remember || isRemembered(offer.serverId),
    onRemember: (on) => {
      if (!on) {
        forget(offer.serverId);
        return true;
      }
      return rememberNow(client.server);
    },
  });
  // The daemon's input kill switch (ServerInfo.inputEnabled): a one-line notice, and the send controls disabled.
  // The daemon refuses input anyway (INPUT_DISABLED); this only keeps the user from typing into a wall.
  const inputOff = h("p", {
    class: "input-off small",
    attrs: { role: "status", hidden: true },
    text: "Input is turned off on this daemon: you can watch, not type. On its machine: paseo daemon input on",
  });
  let inputEnabled = true;
  const applyInputSwitch = () => {
    const wasOff = el.getAttribute("data-input") === "off";
    flag(inputOff, "hidden", inputEnabled);
    el.setAttribute("data-input", inputEnabled ? "on" : "off"); // app.css greys the send controls out
    if (!inputEnabled) {
      // Only ever disables: when input comes back, the view decides again (running agent, live connection …).
      const controls = el.querySelectorAll<HTMLInputElement | HTMLButtonElement>(
        ".input-form input, .input-form button, .extra-keys button",
      );
      for (let i = 0; i < controls.length; i++) controls[i]!.disabled = true;
    } else if (wasOff && isLive()) {
      // The views re-render only when liveness changes: flip it within this tick (no paint in between).
      detail?.setLive(false);
      detail?.setLive(true);
    }
  };

  const list = createAgentList({ onOpen: (a) => showAgent(a), onNew: () => showNew() });
  const pane = h("div", { class: "detail" });
  const placeholder = h(
    "div",
    { class: "card placeholder muted" },
    h("p", { text: "Select an agent to follow its output, send input or stop it." }),
  );
  const layout = h(
    "div",
    { class: "layout", attrs: { "data-view": "list" } },
    h("aside", { class: "sidebar" }, list.el, identity.el),
    pane,
  );
  const el = h(
    "div",
    { class: "screen", attrs: { "data-connection": "stale" } },
    topbar.el,
    banner.el,
    inputOff,
    stale.el,
    layout,
  );
  replace(pane, placeholder);
  if (offer.label) topbar.setHost(offer.label);

  const setView = (view: "list" | "agent" | "new") => layout.setAttribute("data-view", view);
  const closeDetail = () => {
    detail?.dispose();
    detail = undefined;
    form = undefined;
    list.select(undefined);
  };
  const isLive = () => client.state === "connected";
  function showList(): void {
    closeDetail();
    replace(pane, placeholder);
    setView("list");
  }
  function showAgent(agent: AgentInfo): void {
    closeDetail();
    detail = createAgentView(client, agent, {
      onBack: showList,
      onChanged: () => void refreshAgents(),
      live: isLive(),
    });
    list.select(agent.id);
    replace(pane, detail.el);
    setView("agent");
    applyInputSwitch();
  }
  function showNew(): void {
    closeDetail();
    form = createNewAgentForm(client, {
      live: isLive(),
      onStarted: (agent) => {
        agents = [...agents.filter((a) => a.id !== agent.id), agent];
        list.update(agents);
        showAgent(agent);
        void refreshAgents();
      },
      onCancel: showList,
    });
    replace(pane, form.el);
    setView("new");
  }

  const onServer = (server: ServerInfo) => {
    inputEnabled = server.inputEnabled !== false; // an older daemon without the field takes input
    applyInputSwitch();
    identity.update(server);
    topbar.setHost(server.hostname);
    document.title = `paseo — ${server.hostname}`;
    if (isRemembered(offer.serverId)) rememberNow(server);
  };

  // Polls are skipped while disconnected (a request would just wait for the reconnect) and never overlap.
  let agentsBusy = false;
  async function refreshAgents(): Promise<void> {
    if (disposed || agentsBusy || document.hidden || client.state !== "connected") return;
    agentsBusy = true;
    try {
      agents = await client.listAgents({ all: true });
      if (disposed) return;
      freshAt = new Date();
      list.update(agents);
      const current = detail && agents.find((a) => a.id === detail!.id);
      if (current) detail!.update(current);
    } catch {
      // connection errors reach the banner through the client's "error" event
    } finally {
      agentsBusy = false;
    }
  }
  let metricsBusy = false;
  async function refreshMetrics(): Promise<void> {
    if (disposed || metricsBusy || document.hidden || client.state !== "connected") return;
    metricsBusy = true;
    try {
      const server = await client.serverInfo();
      if (!disposed) onServer(server);
    } catch {
      // as above
    } finally {
      metricsBusy = false;
    }
  }

  /**
   * Live ⇄ stale. While the client is not connected, everything on screen is the last known state: it is marked
   * as such and every action is disabled (a Stop that cannot reach the daemon would only fail or, worse, seem to
   * work). Connected again, the list refreshes at once and the actions come back.
   */
  function setLive(live: boolean): void {
    el.setAttribute("data-connection", live ? "live" : "stale");
    list.setLive(live);
    detail?.setLive(live);
    form?.setLive(live);
    applyInputSwitch();
    if (live) stale.hide();
    else if (everConnected) stale.show(freshAt);
  }
  /**
   * The client gave up (it only does for errors that retrying cannot fix): hand over to the caller's error page.
   * Both orders happen — "idle" then the error (a failed reconnect), or the error then "idle" (a closed session) —
   * so this runs on both events, and an older transient error (the drop that started it) never counts.
   */
  function checkFatal(): void {
    if (disposed || fatal || client.state !== "idle" || lastError === undefined || explain(lastError).transient) return;
    fatal = true;
    options.onFatal(lastError);
  }

  const offs = [
    client.on("state", (state) => {
      topbar.setState(state);
      setLive(state === "connected");
      if (state === "connected") {
        everConnected = true;
        banner.clear();
        void refreshAgents();
      }
      checkFatal();
    }),
    client.on("error", (err) => {
      if (disposed) return;
      lastError = err;
      banner.show(err, client.reconnects);
      checkFatal();
    }),
    client.on("server", onServer),
  ];
  const timers = [
    setInterval(() => void refreshAgents(), AGENTS_EVERY_MS),
    setInterval(() => void refreshMetrics(), METRICS_EVERY_MS),
  ];
  // Polling pauses while the tab is hidden (a phone in a pocket); coming back refreshes at once.
  const onVisible = () => {
    if (!document.hidden) {
      void refreshAgents();
      void refreshMetrics();
    }
  };
  document.addEventListener("visibilitychange", onVisible);

  // The first request rides in the handshake (early data): the list arrives one round trip after the socket opens.
  topbar.setState("connecting");
  client.listAgents({ all: true }).then(
    (first) => {
      if (disposed) return;
      freshAt = new Date();
      agents = first;
      list.update(first);
      if (client.server) onServer(client.server);
    },
    (err) => {
      // Only errors that retrying cannot fix end up here (expired, revoked, wrong secret …).
      if (disposed) return;
      lastError = err;
      topbar.setState(client.state);
      checkFatal();
      if (!fatal) banner.show(err, false);
    },
  );

  return {
    el,
    client,
    dispose() {
      disposed = true;
      closeDetail();
      for (const off of offs) off();
      for (const t of timers) clearInterval(t);
      document.removeEventListener("visibilitychange", onVisible);
      client.close();
    },
  };
}
