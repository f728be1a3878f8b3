// The status page: reads /api/status every few seconds and redraws. Text goes in with
// textContent only: file names and error messages are data, never markup.

import { el } from "./dom.js";
import { formatDuration, formatTime, has, setupLanguageButton, t } from "./i18n.js";

const REFRESH_MS = 3000;
let last = null;
let lastAt = null;

const $ = (id) => document.getElementById(id);

function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text === undefined || text === null ? "" : String(text);
  return td;
}

function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind || ""}`;
  span.textContent = text;
  return span;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function emptyRow(columns, key) {
  const td = cell(t(key), "muted");
  td.colSpan = columns;
  return row(td);
}

// A recent result opens its review view: by its id when the entry has one, else by finding its file name.
function reviewCell(item) {
  const id = item.result_id;
  const href = id ? `/results/${encodeURIComponent(id)}` : `/results?q=${encodeURIComponent(item.source)}`;
  const td = cell("", "path");
  const link = document.createElement("a");
  link.href = href;
  link.className = "open";
  link.title = t("status.openReview");
  link.textContent = item.source;
  td.append(link);
  return td;
}

function outcomeBadge(outcome) {
  const kind = outcome === "failed" ? "bad" : "ok";
  return badge(t(`status.outcome.${outcome}`), kind);
}

function render() {
  if (!last) return;
  const s = last;
  const state = $("state");
  if (s.draining) {
    state.className = "badge warn";
    state.textContent = t("status.stopping");
  } else {
    state.className = s.ready ? "badge ok" : "badge bad";
    state.textContent = s.ready ? t("status.ready") : t("status.notReady");
  }
  $("workers").textContent = `${s.workers.busy} / ${s.workers.total}`;
  $("workers-sub").textContent =
    `${s.workers.busy} ${t("status.busy")} · ${s.workers.idle} ${t("status.idle")} · ${s.workers.restarts} ${t("status.restarts")}`;
  $("hour").textContent = `${s.last_hour.done}`;
  $("hour-sub").textContent =
    `${s.last_hour.done} ${t("status.done")} · ${s.last_hour.failed} ${t("status.failed")} · ${s.uploads.waiting} ${t("status.uploadsWaiting")}`;
  $("version").textContent = s.version;
  $("models").textContent = s.models;
  $("precision").textContent = s.precision_reason ? `${s.precision}: ${s.precision_reason}` : s.precision;
  $("node").textContent = `${s.node} (pid ${s.pid})`;
  $("uptime").textContent = formatDuration(s.uptime_seconds);

  const inboxes = $("inboxes");
  inboxes.replaceChildren(
    ...(s.inboxes.length
      ? s.inboxes.map((inbox) => {
          const name = cell(inbox.name);
          name.append(" ");
          if (!inbox.available) name.append(badge(t("status.unavailable"), "bad"));
          else if (inbox.outbox_problem) name.append(badge(t("status.outboxProblem"), "bad"));
          else if (inbox.paused) name.append(badge(t("status.paused"), "warn"));
          const unreadable = (inbox.unreadable || []).length;
          if (unreadable) name.append(" ", badge(`${unreadable} ${t("status.unreadable")}`, "warn"));
          if (inbox.unsupported) name.append(" ", badge(`${inbox.unsupported} ${t("status.unsupported")}`, "warn"));
          const folder = cell(inbox.path, "path");
          const problems = [inbox.outbox_problem, inbox.paused, ...(inbox.unreadable || [])].filter(Boolean);
          if (problems.length) folder.title = problems.join("\n");
          return row(
            name,
            folder,
            cell(`${inbox.watch}${inbox.filesystem ? ` (${inbox.filesystem})` : ""}`),
            cell(inbox.queue_depth, "num"),
            cell(inbox.in_progress, "num"),
            cell(inbox.last_hour ? inbox.last_hour.done : "", "num"),
            cell(inbox.last_hour ? inbox.last_hour.failed : "", "num"),
          );
        })
      : [emptyRow(7, "status.noInboxes")]),
  );

  const recent = $("recent");
  recent.replaceChildren(
    ...(s.recent.length
      ? s.recent.map((item) => {
          const outcome = document.createElement("td");
          outcome.append(outcomeBadge(item.outcome));
          return row(
            cell(formatTime(item.at)),
            cell(item.inbox),
            reviewCell(item),
            cell(item.pages, "num"),
            cell(item.seconds, "num"),
            outcome,
          );
        })
      : [emptyRow(6, "status.noRecent")]),
  );

  const failures = $("failures");
  failures.replaceChildren(
    ...(s.recent_failures.length
      ? s.recent_failures.map((item) => {
          const error = item.error || {};
          const words = cell(`${error.message || ""}`);
          if (error.kind) words.prepend(badge(error.kind, "bad"), " ");
          return row(cell(formatTime(item.at)), cell(item.inbox), reviewCell(item), words);
        })
      : [emptyRow(4, "status.noFailures")]),
  );
  renderCluster(s.cluster);
  renderUpdated();
}

// Shown only in cluster mode (data.cluster): the queues in Redis and every host's last heartbeat.
function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
}

function renderCluster(cluster) {
  const section = $("cluster");
  section.classList.toggle("hidden", !cluster);
  if (!cluster) return;
  const names = { host: cluster.host, redis: cluster.redis, problem: cluster.problem || "" };
  const words = [t(cluster.connected ? "status.clusterConnected" : "status.clusterDisconnected", names)];
  if (cluster.unacknowledged) words.push(t("status.clusterUnacked", { count: cluster.unacknowledged }));
  $("cluster-summary").replaceChildren(
    badge(t(cluster.connected ? "status.clusterRedisUp" : "status.clusterRedisDown"), cluster.connected ? "ok" : "bad"),
    " ",
    el("span", { text: words.join(" ") }),
  );

  const streams = Object.entries(cluster.streams || {});
  $("cluster-streams").replaceChildren(
    ...(streams.length
      ? streams.map(([stream, numbers]) =>
          row(
            cell(label("status.clusterStream", stream)),
            cell(numbers.backlog, "num"),
            cell(numbers.pending, "num"),
            cell(numbers.stuck, "num"),
          ),
        )
      : [emptyRow(4, "status.clusterNoData")]),
  );

  const hosts = cluster.hosts || [];
  $("cluster-hosts").replaceChildren(
    ...(hosts.length
      ? hosts.map((host) => {
          const name = cell(host.host);
          if (host.host === cluster.host) name.append(" ", badge(t("status.clusterThisHost"), ""));
          const kind = host.state === "running" ? "ok" : host.state === "stopping" ? "warn" : "bad";
          const state = el("td", {}, badge(label("status.clusterState", host.state), kind));
          return row(
            name,
            cell((host.roles || []).map((role) => label("status.clusterRole", role)).join(", ")),
            state,
            cell(t("status.clusterAgo", { age: formatDuration(host.seconds_since_heartbeat) }), "num"),
            cell(`${host.busy} / ${host.workers}`, "num"),
            cell(host.in_progress, "num"),
          );
        })
      : [emptyRow(6, "status.clusterNoHosts")]),
  );
}

function renderUpdated() {
  if (lastAt) $("updated").textContent = t("status.updated", { time: lastAt.toLocaleTimeString() });
}

async function refresh() {
  try {
    const response = await fetch("/api/status", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.href = `/login?next=${encodeURIComponent("/")}`;
      return;
    }
    const body = await response.json();
    if (body.code !== 0) throw new Error(body.msg);
    last = body.data;
    lastAt = new Date();
    $("unreachable").classList.add("hidden");
    $("logout").classList.toggle("hidden", last.auth !== "token");
    render();
    document.body.dataset.ready = "true";
  } catch (_) {
    $("unreachable").classList.remove("hidden");
  }
}

setupLanguageButton(render);
refresh();
setInterval(refresh, REFRESH_MS);
