// The results page: what the inboxes and uploads produced, searchable and filtered, one page at a
// time. The search and the filters live in the address (?q=&inbox=&needs_review=&outcome=&page=),
// so a list can be shared, survives a reload, and the back button returns to the previous one.

import { el } from "./dom.js";
import { kindLabel } from "./fields.js";
import { formatTime, setupLanguageButton, t } from "./i18n.js";
import { call, reason, signInIfNeeded, succeeded } from "./replies.js";

const FILTERS = ["q", "inbox", "needs_review", "outcome"];
const PER_PAGE = 50;

const $ = (id) => document.getElementById(id);
const form = $("filters");
const fields = { q: $("q"), inbox: $("inbox"), needs_review: $("needs-review"), outcome: $("outcome") };

let last = null; // the last answer's data, to redraw on a language switch
let lastQuery = null;
let asked = 0; // answers to older questions are dropped

// --- the address ---------------------------------------------------------------------------------

function currentQuery() {
  const params = new URLSearchParams(window.location.search);
  const query = {};
  for (const name of FILTERS) query[name] = (params.get(name) || "").trim();
  query.page = Math.max(1, Number.parseInt(params.get("page"), 10) || 1);
  query.per_page = Math.min(200, Math.max(1, Number.parseInt(params.get("per_page"), 10) || PER_PAGE));
  return query;
}

// Only what differs from the defaults, so the plain list is plain /results.
function queryString(query) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (query[name]) params.set(name, query[name]);
  if (query.page > 1) params.set("page", String(query.page));
  if (query.per_page !== PER_PAGE) params.set("per_page", String(query.per_page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

function go(query) {
  const target = `/results${queryString(query)}`;
  if (target !== window.location.pathname + window.location.search) window.history.pushState(null, "", target);
  load();
}

function fillForm(query) {
  for (const name of FILTERS) {
    const input = fields[name];
    if (input.tagName === "SELECT" && query[name] && ![...input.options].some((option) => option.value === query[name])) {
      input.append(el("option", { value: query[name], text: query[name] }));
    }
    input.value = query[name];
  }
}

// --- drawing -------------------------------------------------------------------------------------

function cell(text, cls) {
  return el("td", { class: cls, text: text === undefined || text === null ? "" : String(text) });
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind || ""}`, text });
}

// The snippet with the searched words marked; text nodes only, never markup.
function snippetView(snippet, words) {
  const box = el("div", { class: "snippet" });
  const needle = words.toLowerCase();
  const lower = snippet.toLowerCase();
  let from = 0;
  let at = needle ? lower.indexOf(needle) : -1;
  while (at >= 0) {
    box.append(snippet.slice(from, at), el("mark", { text: snippet.slice(at, at + needle.length) }));
    from = at + needle.length;
    at = lower.indexOf(needle, from);
  }
  box.append(snippet.slice(from));
  return box;
}

function resultRow(item, query) {
  const link = el("a", { href: item.links && item.links.review ? item.links.review : `/results/${encodeURIComponent(item.id)}`, class: "open", text: item.source });
  const file = el("td", { class: "path" }, link);
  if (item.snippet) file.append(snippetView(item.snippet, query.q));
  if (item.outcome === "failed" && item.error) file.append(el("div", { class: "row-error", text: item.error }));

  const inbox = item.origin === "upload" ? badge(t("results.origin.upload"), "busy") : null;
  const review = el("td");
  if (item.needs_review === true) review.append(badge(t("results.review.true"), "warn"));
  else if (item.needs_review === false) review.append(badge(t("results.review.false"), "ok"));
  else review.append(el("span", { class: "muted", text: "—" }));
  const outcome = el("td", {}, badge(t(`results.outcome.${item.outcome}`), item.outcome === "failed" ? "bad" : "ok"));
  const corrections = cell(item.corrections || 0, "num");
  if (item.corrections) corrections.classList.add("has-corrections");

  const row = el(
    "tr",
    { "data-id": item.id, class: "result-row" },
    cell(formatTime(item.created_at)),
    inbox ? el("td", {}, inbox) : cell(item.inbox),
    file,
    cell(item.pages, "num"),
    cell(item.kind ? kindLabel(item.kind) : "", "kind"),
    review,
    outcome,
    corrections,
  );
  // The whole row opens the review; the link inside is what the keyboard reaches.
  row.addEventListener("click", (event) => {
    if (event.target.closest("a") || window.getSelection().toString()) return;
    link.click();
  });
  return row;
}

function messageRow(text, cls) {
  return el("tr", {}, el("td", { colspan: "8", class: cls, text }));
}

function pageLink(query, page, key, current) {
  const label = t(key);
  if (page < 1 || (current !== undefined && page > current)) {
    return el("span", { class: "button disabled", "aria-disabled": "true", text: label });
  }
  const target = { ...query, page };
  return el("a", {
    class: "button",
    href: `/results${queryString(target)}`,
    rel: key === "results.next" ? "next" : "prev",
    "data-page": String(page),
    text: label,
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      go(target);
      window.scrollTo(0, 0);
    },
  });
}

function render() {
  const pager = $("pager");
  pager.setAttribute("aria-label", t("results.pager"));
  if (!last) return;
  const data = last;
  const query = lastQuery;
  const filtered = FILTERS.some((name) => query[name]);
  const rows = data.items.map((item) => resultRow(item, query));
  if (!rows.length) {
    rows.push(messageRow(filtered || data.page > 1 ? t("results.noMatch") : t("results.empty"), "muted empty"));
  }
  $("results").replaceChildren(...rows);
  $("count").textContent = t("results.count", { total: data.total });
  const pages = Math.max(1, Math.ceil(data.total / Math.max(1, data.per_page)));
  if (pages > 1 || data.page > 1) {
    pager.replaceChildren(
      pageLink(query, data.page - 1, "results.prev"),
      el("span", { class: "pager-where", text: t("results.pageOf", { page: data.page, pages }) }),
      pageLink(query, data.page + 1, "results.next", pages),
    );
  } else {
    pager.replaceChildren();
  }
}

function showProblem(words) {
  const problem = $("problem");
  problem.replaceChildren(
    el("span", { text: t("results.loadFailed", { reason: words }) }),
    " ",
    el("button", { type: "button", class: "ghost", text: t("results.retry"), onclick: () => load() }),
  );
  problem.classList.remove("hidden");
}

// --- loading -------------------------------------------------------------------------------------

async function load() {
  const query = currentQuery();
  fillForm(query);
  const ticket = ++asked;
  document.body.dataset.ready = "false";
  $("count").textContent = t("results.loading");
  const params = new URLSearchParams({ page: String(query.page), per_page: String(query.per_page) });
  for (const name of FILTERS) if (query[name]) params.set(name, query[name]);
  const reply = await call(`/api/results?${params}`);
  if (ticket !== asked) return;
  if (signInIfNeeded(reply)) return;
  if (!succeeded(reply)) {
    last = null;
    $("results").replaceChildren();
    $("pager").replaceChildren();
    $("count").textContent = "";
    showProblem(reason(reply));
  } else {
    $("problem").classList.add("hidden");
    last = reply.body.data;
    lastQuery = query;
    render();
  }
  document.body.dataset.ready = "true";
}

// The inbox filter offers the configured inboxes; the status API names them.
async function loadInboxes() {
  const reply = await call("/api/status");
  if (!succeeded(reply)) return;
  const data = reply.body.data;
  $("logout").classList.toggle("hidden", data.auth !== "token");
  const select = fields.inbox;
  const known = new Set([...select.options].map((option) => option.value));
  for (const inbox of data.inboxes || []) {
    if (!known.has(inbox.name)) select.append(el("option", { value: inbox.name, text: inbox.name }));
  }
  select.value = currentQuery().inbox;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = currentQuery();
  for (const name of FILTERS) query[name] = fields[name].value.trim();
  query.page = 1;
  go(query);
});

// A changed filter applies at once; the search box waits for Enter or the button.
for (const name of ["inbox", "needs_review", "outcome"]) {
  fields[name].addEventListener("change", () => form.requestSubmit());
}

$("clear").addEventListener("click", (event) => {
  event.preventDefault();
  const query = currentQuery();
  for (const name of FILTERS) query[name] = "";
  query.page = 1;
  go(query);
});

window.addEventListener("popstate", () => load());

setupLanguageButton(render);
loadInboxes();
load();
