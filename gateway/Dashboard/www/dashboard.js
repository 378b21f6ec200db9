// The AccessLayer dashboard: a fleet page (nodes, their figures and charts, drain) and a clients page (search,
// one session, kick, flapping bans, retained topics). Every call carries the management token as a bearer header;
// the token is kept in sessionStorage (this tab only) and never put in a URL.
"use strict";

const TokenKey = "accesslayer.managementToken";
const MaxPoints = 36000;
const $ = (id) => document.getElementById(id);

// ---- API ----------------------------------------------------------------------------------------------------
class Unauthorized extends Error {}

async function api(method, path) {
  const token = sessionStorage.getItem(TokenKey);
  const response = await fetch("/api/v1" + path, {
    method,
    headers: token ? { Authorization: "Bearer " + token } : {},
    cache: "no-store",
  });
  if (response.status === 401 || response.status === 403) {
    // 401: no or a wrong token; 403: the node has no token configured (its API is closed), its own words.
    let message = response.status === 401 ? "The token was not accepted." : "The management API is disabled on this node.";
    if (response.status === 403) {
      try { message = (await response.json()).error || message; } catch { /* keep the default */ }
    }
    throw new Unauthorized(message);
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  return { status: response.status, ok: response.ok, body };
}

// ---- helpers ------------------------------------------------------------------------------------------------
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function button(text, onClick, className) {
  const b = el("button", text, className);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function rate(v) {
  if (v >= 10000) return (v / 1000).toFixed(1) + "k";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function bytes(v) {
  if (v >= 1 << 30) return (v / (1 << 30)).toFixed(2) + " GiB";
  if (v >= 1 << 20) return (v / (1 << 20)).toFixed(1) + " MiB";
  return (v / 1024).toFixed(0) + " KiB";
}

function when(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").substring(0, 19) : "";
}

/** Asks through the in-page dialog (window.confirm cannot be styled and some browsers suppress it). */
function confirmAction(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  return new Promise((resolve) => {
    const done = (answer) => {
      $("confirm-ok").removeEventListener("click", ok);
      $("confirm-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("cancel", cancel);
      dialog.close();
      resolve(answer);
    };
    const ok = () => done(true);
    const cancel = () => done(false);
    $("confirm-ok").addEventListener("click", ok);
    $("confirm-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel);
    dialog.showModal();
  });
}

// ---- sign in ------------------------------------------------------------------------------------------------
function showLogin(message) {
  stopFleet();
  sessionStorage.removeItem(TokenKey);
  for (const id of ["fleet-page", "clients-page", "logout"]) $(id).hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").value = "";
  $("token").focus();
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(TokenKey, $("token").value);
  try {
    await api("GET", "/fleet/nodes");
  } catch (e) {
    showLogin(e instanceof Unauthorized ? e.message : "The node did not answer: " + e.message);
    return;
  }
  $("token").value = "";
  $("login").hidden = true;
  $("logout").hidden = false;
  route();
}

function handle(error, where) {
  if (error instanceof Unauthorized) {
    showLogin(error.message);
  } else {
    $(where).textContent = String(error.message || error);
  }
}

// ---- fleet page ---------------------------------------------------------------------------------------------
const nodes = new Map(); // node id -> { card, points, since, charts, figures, drain }
let fleetTimer = null;
let self = "";

function stopFleet() {
  if (fleetTimer !== null) clearInterval(fleetTimer);
  fleetTimer = null;
}

function startFleet() {
  stopFleet();
  refreshFleet();
  fleetTimer = setInterval(refreshFleet, 1000);
}

let refreshing = false;
async function refreshFleet() {
  if (refreshing) return;
  refreshing = true;
  try {
    const fleet = (await api("GET", "/fleet/nodes")).body;
    self = fleet.self;
    $("self").textContent = "this node: " + fleet.self;
    const seen = new Set();
    const refreshes = [];
    for (const info of fleet.nodes) {
      seen.add(info.id);
      const node = nodes.get(info.id) || addNode(info.id);
      node.info = info;
      refreshes.push(refreshNode(node));
    }
    // Nodes at once: a slow peer (its call times out after 5 s) does not hold the others' figures back.
    await Promise.all(refreshes);
    for (const [id, node] of nodes) {
      if (!seen.has(id)) { node.card.remove(); nodes.delete(id); }
    }
    $("fleet-error").textContent = "";
  } catch (e) {
    handle(e, "fleet-error");
  } finally {
    refreshing = false;
  }
}

function figure(parent, label) {
  const div = el("div");
  const value = el("span", "–");
  div.append(el("span", label), value);
  parent.append(div);
  return value;
}

function addNode(id) {
  const card = el("article", null, "node");
  card.dataset.node = id;
  const title = el("h2");
  const name = el("span", id);
  const badge = el("span", "", "badge status");
  const selfBadge = el("span", "this node", "badge self");
  selfBadge.hidden = true;
  title.append(name, badge, selfBadge);

  const grid = el("div", null, "figures");
  const figures = {
    tcp: figure(grid, "MQTT TCP"), tls: figure(grid, "MQTT TLS"), ws: figure(grid, "MQTT WebSocket"), mlp: figure(grid, "MLP"),
    connects: figure(grid, "connects/s"), in: figure(grid, "messages in/s"), out: figure(grid, "messages out/s"), drops: figure(grid, "drops/s"),
    pauses: figure(grid, "back-pressure pauses/s"), evictions: figure(grid, "evictions/s"), ws_bytes: figure(grid, "working set"), heap: figure(grid, "GC heap"),
  };
  for (const [key, span] of Object.entries(figures)) span.dataset.figure = key;
  const evictions = el("div", "", "evictions");

  const charts = el("div", null, "charts");
  const chart = (label, key, series, format) => {
    const box = el("div", null, "chart");
    const canvas = el("canvas");
    canvas.dataset.chart = key;
    const c = new window.LineChart(canvas, series, format);
    box.append(el("h3", label), canvas, c.legend());
    charts.append(box);
    return c;
  };
  const count = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const nodeCharts = [
    chart("Connections", "connections", [
      { key: "mqttTcp", label: "MQTT", color: "#2563eb" }, { key: "mqttTls", label: "TLS", color: "#7c3aed" },
      { key: "mqttWebSocket", label: "WS", color: "#0891b2" }, { key: "mlp", label: "MLP", color: "#ea580c" }], count),
    chart("Messages per second", "messages", [
      { key: "messagesInPerSecond", label: "in", color: "#16a34a" }, { key: "messagesOutPerSecond", label: "out", color: "#2563eb" },
      { key: "dropsPerSecond", label: "drops", color: "#dc2626" }], rate),
    chart("Connects, pauses, evictions per second", "events", [
      { key: "connectsPerSecond", label: "connects", color: "#0891b2" }, { key: "backPressurePausesPerSecond", label: "pauses", color: "#ca8a04" },
      { key: "evictionsPerSecond", label: "evictions", color: "#dc2626" }], rate),
    chart("Memory", "memory", [
      { key: "workingSetBytes", label: "working set", color: "#4b5563" }, { key: "gcHeapBytes", label: "GC heap", color: "#16a34a" }], bytes),
  ];

  const drain = el("div", null, "drain");
  const drainState = el("span", "", "drain-state");
  const drainButton = button("Drain", () => startDrain(id), "danger drain-start");
  const cancelButton = button("Cancel drain", () => cancelDrain(id), "drain-cancel");
  cancelButton.hidden = true;
  drain.append(drainButton, cancelButton, drainState);

  card.append(title, grid, evictions, charts, drain);
  $("nodes").append(card);
  const node = { id, card, badge, selfBadge, figures, evictions, charts: nodeCharts, points: [], since: 0, drainState, drainButton, cancelButton };
  nodes.set(id, node);
  return node;
}

async function refreshNode(node) {
  node.selfBadge.hidden = node.id !== self;
  node.badge.textContent = node.info.status;
  node.badge.classList.toggle("draining", node.info.status === "draining");
  const response = await api("GET", "/stats?node=" + encodeURIComponent(node.id) + (node.since ? "&since=" + node.since : ""));
  if (!response.ok) {
    node.badge.textContent = "unreachable";
    return;
  }
  const stats = response.body;
  if (stats.samples.length > 0) {
    node.points.push(...stats.samples);
    node.since = stats.samples[stats.samples.length - 1].t;
    const keep = Math.min(MaxPoints, Math.ceil(600 / Math.max(stats.intervalSeconds, 0.1)));
    if (node.points.length > keep) node.points.splice(0, node.points.length - keep);
  }
  const last = node.points[node.points.length - 1];
  if (last) {
    const f = node.figures;
    f.tcp.textContent = last.mqttTcp; f.tls.textContent = last.mqttTls; f.ws.textContent = last.mqttWebSocket; f.mlp.textContent = last.mlp;
    f.connects.textContent = rate(last.connectsPerSecond); f.in.textContent = rate(last.messagesInPerSecond);
    f.out.textContent = rate(last.messagesOutPerSecond); f.drops.textContent = rate(last.dropsPerSecond);
    f.pauses.textContent = rate(last.backPressurePausesPerSecond); f.evictions.textContent = rate(last.evictionsPerSecond);
    f.ws_bytes.textContent = bytes(last.workingSetBytes); f.heap.textContent = bytes(last.gcHeapBytes);
  }
  const reasons = Object.entries(stats.evictionsByReason || {}).filter(([, n]) => n > 0);
  node.evictions.textContent = reasons.length === 0 ? "No evictions since start."
    : "Evictions since start: " + reasons.map(([reason, n]) => reason + " " + n).join(", ");
  for (const chart of node.charts) chart.draw(node.points);

  const drain = (await api("GET", "/fleet/nodes/" + encodeURIComponent(node.id) + "/drain")).body;
  if (drain && drain.state) showDrain(node, drain);
}

function showDrain(node, drain) {
  const draining = drain.state !== "idle";
  node.drainButton.hidden = draining;
  node.cancelButton.hidden = !draining;
  node.drainState.textContent = !draining ? "" :
    drain.state + ": " + drain.moved + " moved, " + drain.remaining + " remaining" + (drain.startedAt ? " (since " + when(drain.startedAt) + ")" : "");
  node.card.dataset.drain = drain.state;
}

async function startDrain(id) {
  if (!(await confirmAction("Drain node " + id + "? It stops taking connections (/readyz 503) and moves its clients to other nodes."))) return;
  try {
    const response = await api("POST", "/fleet/nodes/" + encodeURIComponent(id) + "/drain");
    if (response.body && response.body.state) showDrain(nodes.get(id), response.body);
    if (!response.ok) $("fleet-error").textContent = response.body?.error || "The drain did not start (" + response.status + ").";
  } catch (e) {
    handle(e, "fleet-error");
  }
}

async function cancelDrain(id) {
  if (!(await confirmAction("Cancel the drain of node " + id + "? It takes connections again; clients already moved stay where they went."))) return;
  try {
    const response = await api("DELETE", "/fleet/nodes/" + encodeURIComponent(id) + "/drain");
    if (response.body && response.body.state) showDrain(nodes.get(id), response.body);
  } catch (e) {
    handle(e, "fleet-error");
  }
}

// ---- clients page -------------------------------------------------------------------------------------------
async function searchClients(event) {
  if (event) event.preventDefault();
  try {
    const query = $("search").value.trim();
    const page = (await api("GET", "/clients?pageSize=200" + (query ? "&search=" + encodeURIComponent(query) : ""))).body;
    $("search-total").textContent = page.total + " connected" + (page.total > page.items.length ? ", first " + page.items.length + " shown" : "");
    const body = $("clients").querySelector("tbody");
    body.replaceChildren();
    for (const c of page.items) {
      const row = el("tr");
      row.dataset.client = c.clientId;
      for (const v of [c.clientId, c.userName || "", c.protocolVersion, c.listener, c.remoteEndPoint || "", when(c.connectedAt), c.inflight, c.outboundQueue]) {
        row.append(el("td", v));
      }
      const actions = el("td");
      actions.append(button("Details", () => showClient(c.clientId), "client-details"), button("Kick", () => kick(c.clientId), "danger client-kick"));
      row.append(actions);
      body.append(row);
    }
    const devices = (await api("GET", "/devices?limit=200" + (query ? "&search=" + encodeURIComponent(query) : ""))).body;
    $("devices-total").textContent = devices.total + " connected" + (devices.total > devices.items.length ? ", first " + devices.items.length + " shown" : "");
    $("devices").querySelector("tbody").replaceChildren(...devices.items.map((d) => {
      const row = el("tr");
      row.dataset.device = d.deviceId;
      row.append(el("td", d.deviceId), el("td", d.userId), el("td", Math.round(d.connectedSeconds) + " s"), el("td", Math.round(d.idleSeconds) + " s ago"));
      return row;
    }));
    $("clients-error").textContent = "";
  } catch (e) {
    handle(e, "clients-error");
  }
}

async function showClient(clientId) {
  try {
    const response = await api("GET", "/clients/" + encodeURIComponent(clientId));
    const panel = $("client-detail");
    if (!response.ok) {
      panel.hidden = true;
      $("clients-error").textContent = response.body?.error || "Not found.";
      return;
    }
    const d = response.body;
    const s = d.session || {};
    $("detail-title").textContent = d.clientId + (d.connected ? " (connected)" : " (offline)");
    const fields = $("detail-fields");
    fields.replaceChildren();
    const add = (k, v) => fields.append(el("dt", k), el("dd", v));
    if (d.connection) {
      add("user", d.connection.userName || "");
      add("listener", d.connection.listener + " from " + (d.connection.remoteEndPoint || "?"));
      add("protocol", "MQTT " + d.connection.protocolVersion + ", keep alive " + d.connection.keepAlive + " s");
      add("connected at", when(d.connection.connectedAt));
      add("writer queue", d.connection.outboundQueue + " packets, " + d.connection.outboundQueueBytes + " bytes");
    }
    add("last seen", d.connected ? "now" : when(s.disconnectedAt));
    add("inflight", s.inflight ?? 0);
    add("queued", s.queued ?? 0);
    add("session expiry", (s.sessionExpiryInterval ?? 0) + " s");
    add("will", s.hasWill ? "yes" : "no");
    const subs = $("detail-subscriptions");
    subs.replaceChildren(...(s.subscriptions || []).map((x) => el("li", x.topicFilter + "  (QoS " + x.maximumQoS + ")")));
    panel.hidden = false;
    panel.dataset.client = d.clientId;
  } catch (e) {
    handle(e, "clients-error");
  }
}

async function kick(clientId) {
  if (!(await confirmAction("Disconnect client " + clientId + "? (MQTT 5.0 clients get DISCONNECT 0x98; the session stays.)"))) return;
  try {
    const response = await api("DELETE", "/clients/" + encodeURIComponent(clientId));
    if (!response.ok) $("clients-error").textContent = response.body?.error || "Kick failed (" + response.status + ").";
    await searchClients();
  } catch (e) {
    handle(e, "clients-error");
  }
}

async function refreshBans() {
  try {
    const bans = (await api("GET", "/bans")).body;
    const body = $("bans").querySelector("tbody");
    body.replaceChildren();
    for (const b of bans) {
      const row = el("tr");
      row.dataset.ban = b.clientId;
      row.append(el("td", b.clientId), el("td", b.address), el("td", Math.ceil(b.remainingSeconds) + " s"));
      const actions = el("td");
      actions.append(button("Lift", () => lift(b.clientId), "ban-lift"));
      row.append(actions);
      body.append(row);
    }
    $("bans-empty").hidden = bans.length > 0;
  } catch (e) {
    handle(e, "clients-error");
  }
}

async function lift(clientId) {
  if (!(await confirmAction("Lift every ban of client " + clientId + "?"))) return;
  try {
    await api("DELETE", "/bans/" + encodeURIComponent(clientId));
    await refreshBans();
  } catch (e) {
    handle(e, "clients-error");
  }
}

let retainedNext = null;
async function listRetained(event, more) {
  if (event) event.preventDefault();
  try {
    const prefix = $("retained-prefix").value;
    const cursor = more && retainedNext ? "&after=" + encodeURIComponent(retainedNext) : "";
    const response = await api("GET", "/retained?limit=100&prefix=" + encodeURIComponent(prefix) + cursor);
    if (!response.ok) {
      $("clients-error").textContent = response.body?.error || "Listing failed.";
      return;
    }
    const page = response.body;
    const body = $("retained").querySelector("tbody");
    if (!more) body.replaceChildren();
    for (const r of page.items) {
      const row = el("tr");
      row.dataset.topic = r.topic;
      row.append(el("td", r.topic), el("td", r.qoS), el("td", r.payloadBytes), el("td", r.payload ?? "(binary)"), el("td", when(r.storedAt)));
      body.append(row);
    }
    retainedNext = page.next || null;
    $("retained-more").hidden = !retainedNext;
    $("retained-total").textContent = page.matched + " retained under this prefix";
  } catch (e) {
    handle(e, "clients-error");
  }
}

// ---- pages --------------------------------------------------------------------------------------------------
function route() {
  if (!sessionStorage.getItem(TokenKey)) {
    showLogin();
    return;
  }
  const page = location.hash === "#clients" ? "clients" : "fleet";
  $("fleet-page").hidden = page !== "fleet";
  $("clients-page").hidden = page !== "clients";
  $("nav-fleet").classList.toggle("active", page === "fleet");
  $("nav-clients").classList.toggle("active", page === "clients");
  if (page === "fleet") {
    startFleet();
  } else {
    stopFleet();
    searchClients();
    refreshBans();
    listRetained();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", () => showLogin());
  $("search-form").addEventListener("submit", searchClients);
  $("bans-refresh").addEventListener("click", refreshBans);
  $("retained-form").addEventListener("submit", (e) => listRetained(e, false));
  $("retained-more").addEventListener("click", () => listRetained(null, true));
  window.addEventListener("hashchange", route);
  if (sessionStorage.getItem(TokenKey)) $("logout").hidden = false;
  route();
});
