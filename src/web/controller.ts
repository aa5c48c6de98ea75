/**
 * A connected daemon's screen: one DaemonClient (reconnect on, the browser's own WebSocket), the top bar, the
 * connection banner, the daemon card, the agent list (refreshed every 2 s while connected) and the detail pane
 * (an agent's output or the new-agent form). Polls pause while the tab is hidden. `dispose()` closes the client,
 * every timer and listener.
 *
 * Devices (issue 16): the screen connects with a Target (a v3 link, a v4 ticket being spent on the user's tap, or a
 * remembered device key). The session's rights and the daemon's kill switch become an Access that every view
 * follows (read-only: watch only; input off: no typing); an enrollment shows the device card with the code to
 * compare on the daemon.
 */
import { DaemonClient, type AgentInfo, type ServerInfo } from "../index.js";
import { accessOf, FULL_ACCESS, inputSwitchedOff, sameAccess, type Access } from "./access.js";
import { flag, h, replace } from "./dom.js";
import { explain } from "./errors.js";
import { rememberPolicy, type EnrolledInfo } from "./remember.js";
import { clientOptionsOf, nameOf, type Target } from "./target.js";
import { createAccessNotice } from "./views/access-notice.js";
import { createBanner } from "./views/banner.js";
import { createDeviceCard, type DeviceFacts } from "./views/device-card.js";
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
  /** v3 offers: remember the offer now (the pairing page's box). Other targets carry their own choice. */
  remember: boolean;
  onLeave: () => void;
  /**
   * The link cannot work any more (revoked, expired, wrong secret …): the client has given up. The caller replaces
   * this screen with one page that says why — a dashboard of stale data with enabled buttons would only mislead.
   */
  onFatal: (err: unknown) => void;
}

export function openDaemonScreen(target: Target, options: DaemonScreenOptions): DaemonScreen {
  const client = new DaemonClient(clientOptionsOf(target));
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
  let access: Access = FULL_ACCESS;
  /**
   * The newest ServerInfo: the welcome's, then each server.info poll's (client.server is only the welcome's, and
   * the kill switch can flip between handshakes).
   */
  let server: ServerInfo | undefined;

  const topbar = createTopbar({ onSwitch: () => options.onLeave() });
  const banner = createBanner();
  const stale = createStaleNotice();
  const notices = createAccessNotice();
  const deviceCard = createDeviceCard();
  const memory = rememberPolicy(target, options.remember);
  const identity = createIdentityCard({
    remembered: memory.remembered,
    onRemember: (on) => memory.set(on, server ?? client.server),
  });
  /** What the device card shows: the stored record, then what each welcome says (rights can change). */
  let facts: DeviceFacts | undefined;
  let justEnrolled = false;
  if (target.kind === "device") {
    const d = target.device;
    facts = { deviceId: d.deviceId, rights: d.rights, sas: d.sas, label: d.label };
    deviceCard.show(facts, false);
  }
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
    h("aside", { class: "sidebar" }, deviceCard.el, list.el, identity.el),
    pane,
  );
  const el = h(
    "div",
    { class: "screen", attrs: { "data-connection": "stale" } },
    topbar.el,
    banner.el,
    notices.el,
    stale.el,
    layout,
  );
  replace(pane, placeholder);
  const initialName = nameOf(target);
  if (initialName) topbar.setHost(initialName);

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
      access,
    });
    list.select(agent.id);
    replace(pane, detail.el);
    setView("agent");
  }
  function showNew(): void {
    if (!access.control) return;
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

  /**
   * Rights come with each welcome (a device's rights may change between connections: `paseo daemon devices set`),
   * the kill switch with every ServerInfo (welcome and the 5 s server.info poll).
   */
  function applyAccess(): void {
    const session = client.session;
    if (facts && session?.kind === "device" && session.rights !== facts.rights) {
      facts = { ...facts, rights: session.rights };
      deviceCard.show(facts, justEnrolled);
      memory.onRights(session.rights);
    }
    const next = accessOf(session?.rights, server);
    el.setAttribute("data-rights", next.control ? "control" : "read-only");
    flag(el, "data-input-off", inputSwitchedOff(server));
    topbar.setReadOnly(!next.control);
    notices.set(!next.control, inputSwitchedOff(server));
    if (sameAccess(next, access)) return;
    access = next;
    list.setControl(next.control);
    if (!next.control && form) showList();
    detail?.setAccess(next);
  }

  const onServer = (info: ServerInfo) => {
    server = info;
    identity.update(info);
    topbar.setHost(info.hostname);
    document.title = `paseo — ${info.hostname}`;
    memory.onServer(info);
    applyAccess();
  };

  /** The handshake enrolled this device (once): show its code and rights, and store its key if asked to. */
  const onEnrolled = (info: EnrolledInfo) => {
    facts = info;
    justEnrolled = true;
    deviceCard.show(info, true);
    memory.onEnrolled(info, server ?? client.server).then(
      () => identity.setRemembered(memory.remembered),
      (err) => {
        identity.setRemembered(false);
        banner.show(err, false);
      },
    );
    applyAccess();
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
        applyAccess();
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
    client.on("enrolled", onEnrolled),
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
