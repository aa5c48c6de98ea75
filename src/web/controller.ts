/**
 * A connected daemon's screen: one DaemonClient (reconnect on, the browser's own WebSocket), the top bar, the
 * connection banner, the daemon card, the agent list (refreshed every 2 s while connected) and the detail pane
 * (an agent's output or the new-agent form). Polls pause while the tab is hidden. `dispose()` closes the client,
 * every timer and listener.
 */
import { DaemonClient, type AgentInfo, type Offer, type ServerInfo } from "../index.js";
import { h, replace } from "./dom.js";
import { forget, isRemembered, remember } from "./offer-source.js";
import { createBanner } from "./views/banner.js";
import { createAgentView, type AgentView } from "./views/agent.js";
import { createAgentList } from "./views/agents.js";
import { createIdentityCard } from "./views/identity.js";
import { createNewAgentForm } from "./views/new-agent.js";
import { createTopbar } from "./views/topbar.js";

const AGENTS_EVERY_MS = 2000;
const METRICS_EVERY_MS = 5000;

export interface DaemonScreen {
  el: HTMLElement;
  readonly client: DaemonClient;
  dispose(): void;
}

export function openDaemonScreen(offer: Offer, options: { remember: boolean; onLeave: () => void }): DaemonScreen {
  const client = new DaemonClient({ offer, reconnect: true });
  let disposed = false;
  let agents: AgentInfo[] = [];
  let detail: AgentView | undefined;
  let wasConnected = false;

  const topbar = createTopbar({ onSwitch: () => options.onLeave() });
  const banner = createBanner();
  const rememberNow = (server?: ServerInfo) => remember(offer, server ? { name: server.hostname, fingerprint: server.fingerprint } : {});
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
  const list = createAgentList({ onOpen: (a) => showAgent(a), onNew: () => showNew() });
  const pane = h("div", { class: "detail" });
  const placeholder = h("div", { class: "card placeholder muted" }, h("p", { text: "Select an agent to follow its output, send input or stop it." }));
  const layout = h("div", { class: "layout", attrs: { "data-view": "list" } }, h("aside", { class: "sidebar" }, list.el, identity.el), pane);
  const el = h("div", { class: "screen" }, topbar.el, banner.el, layout);
  replace(pane, placeholder);
  if (offer.label) topbar.setHost(offer.label);

  const setView = (view: "list" | "agent" | "new") => layout.setAttribute("data-view", view);
  const closeDetail = () => {
    detail?.dispose();
    detail = undefined;
    list.select(undefined);
  };
  function showList(): void {
    closeDetail();
    replace(pane, placeholder);
    setView("list");
  }
  function showAgent(agent: AgentInfo): void {
    closeDetail();
    detail = createAgentView(client, agent, { onBack: showList, onChanged: () => void refreshAgents() });
    list.select(agent.id);
    replace(pane, detail.el);
    setView("agent");
  }
  function showNew(): void {
    closeDetail();
    replace(
      pane,
      createNewAgentForm(client, {
        onStarted: (agent) => {
          agents = [...agents.filter((a) => a.id !== agent.id), agent];
          list.update(agents);
          showAgent(agent);
          void refreshAgents();
        },
        onCancel: showList,
      }),
    );
    setView("new");
  }

  const onServer = (server: ServerInfo) => {
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

  const offs = [
    client.on("state", (state) => {
      topbar.setState(state);
      if (state === "connected") {
        wasConnected = true;
        banner.clear();
        void refreshAgents();
      } else if (state === "idle" && wasConnected && !disposed) {
        // The client gave up reconnecting (revoked, expired …): one more call surfaces the named error.
        wasConnected = false;
        client.serverInfo().then(
          () => {},
          (err) => {
            if (!disposed) banner.show(err, false);
          },
        );
      }
    }),
    client.on("error", (err) => {
      if (!disposed) banner.show(err, client.reconnects);
    }),
    client.on("server", onServer),
  ];
  const timers = [setInterval(() => void refreshAgents(), AGENTS_EVERY_MS), setInterval(() => void refreshMetrics(), METRICS_EVERY_MS)];
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
      agents = first;
      list.update(first);
      if (client.server) onServer(client.server);
    },
    (err) => {
      // Only errors that retrying cannot fix end up here (expired, revoked, wrong secret …).
      if (!disposed) {
        banner.show(err, false);
        topbar.setState(client.state);
      }
    },
  );

  return {
    el,
    client,
    dispose() {
      disposed = true;
      closeDetail();
      offs.forEach((off) => off());
      timers.forEach((t) => clearInterval(t));
      document.removeEventListener("visibilitychange", onVisible);
      client.close();
    },
  };
}
