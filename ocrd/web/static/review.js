// The review view of one result: the page image with its line boxes (and the invoice fields' boxes),
// the text beside it line by line, and each line correctable in place. Hovering a line lights its
// box and the other way round; the page zooms (buttons, Ctrl+wheel, + and - keys) and fits the width.

import { el, svgEl } from "./dom.js";
import { fieldsView, kindLabel } from "./fields.js";
import { formatTime, setupLanguageButton, t } from "./i18n.js";
import { call, reason, signInIfNeeded, succeeded } from "./replies.js";

const LOW_CONFIDENCE = 0.8; // as on the upload page: lines below this are marked uncertain
const ZOOMS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4]; // of the fitted width

const $ = (id) => document.getElementById(id);
const resultId = decodeURIComponent(window.location.pathname.replace(/^\/results\//, "").replace(/\/$/, ""));
const api = `/api/results/${encodeURIComponent(resultId)}`;

let item = null; // the API's answer: the result's entry, its document, corrections and version
let pageAt = 0; // position in item.result.pages of the page shown
let zoom = 1;
let pinned = null; // the field whose box stays outlined after a click
const drafts = new Map(); // "page:line" -> {value, error}: edits in progress survive redraws
const lineHistory = new Map(); // "page:line" -> corrections of that line, oldest first

const key = (page, line) => `${page}:${line}`;

// --- the head ------------------------------------------------------------------------------------

function badge(text, kind, title) {
  return el("span", { class: `badge ${kind || ""}`, text, title });
}

function renderHead() {
  $("source").textContent = item.source;
  document.title = `ocrd · ${item.source}`;
  const parts = [el("span", { text: formatTime(item.created_at) })];
  parts.push(
    el("span", {
      text: item.origin === "upload" ? t("review.origin.upload") : t("review.origin.folder", { name: item.inbox || "" }),
    }),
  );
  if (item.pages) parts.push(el("span", { text: t("status.pages") + " " + item.pages }));
  if (item.kind) parts.push(el("span", { class: "kind", text: kindLabel(item.kind) }));
  if (item.needs_review === true) parts.push(badge(t("results.review.true"), "warn"));
  else if (item.needs_review === false) parts.push(badge(t("results.review.false"), "ok"));
  parts.push(badge(t(`results.outcome.${item.outcome}`), item.outcome === "failed" ? "bad" : "ok"));
  const count = corrections().length;
  if (count) parts.push(el("span", { id: "corrections-count", text: t("review.corrections", { n: count }) }));
  if (item.version) parts.push(el("span", { class: "muted", id: "version", text: t("review.version", { n: item.version }) }));
  $("meta").replaceChildren(...parts);
}

function corrections() {
  return Array.isArray(item.corrections) ? item.corrections : [];
}

function indexCorrections() {
  lineHistory.clear();
  for (const correction of corrections()) {
    const name = key(correction.page, correction.line);
    if (!lineHistory.has(name)) lineHistory.set(name, []);
    lineHistory.get(name).push(correction);
  }
}

// --- the page ------------------------------------------------------------------------------------

function pages() {
  return item.result && Array.isArray(item.result.pages) ? item.result.pages : [];
}

function currentPage() {
  return pages()[pageAt];
}

function renderPageSwitch() {
  const all = pages();
  const select = $("page-select");
  select.replaceChildren(
    ...all.map((page, at) => el("option", { value: String(at), text: t("job.page", { n: page.index + 1, count: all.length }) })),
  );
  select.value = String(pageAt);
  $("page-switch").classList.toggle("hidden", all.length < 2);
  $("prev-page").disabled = pageAt <= 0;
  $("next-page").disabled = pageAt >= all.length - 1;
}

function renderPage() {
  const page = currentPage();
  renderPageSwitch();
  if (!page) {
    $("lines").replaceChildren(el("li", { class: "none", text: t("review.noPages") }));
    return;
  }
  const width = Math.max(1, page.width);
  const height = Math.max(1, page.height);
  const viewBox = `0 0 ${width} ${height}`;
  const frame = $("frame");
  frame.style.aspectRatio = `${width} / ${height}`;
  const image = $("page-image");
  const source = item.page_image ? item.page_image.replace("{n}", String(page.index)) : null;
  image.alt = `${item.source} · ${page.index + 1}`;
  if (source) {
    image.classList.remove("hidden");
    $("no-image").classList.add("hidden");
    if (image.getAttribute("src") !== source) image.src = source;
  } else {
    image.removeAttribute("src");
    image.classList.add("hidden");
    $("no-image").classList.remove("hidden");
  }

  const boxes = $("boxes");
  boxes.setAttribute("viewBox", viewBox);
  boxes.replaceChildren(
    ...page.lines.map((line, index) => {
      const polygon = svgEl("polygon", { points: line.box.map(([x, y]) => `${x},${y}`).join(" "), "data-i": String(index) });
      const title = svgEl("title");
      title.textContent = line.text;
      polygon.append(title);
      return polygon;
    }),
  );
  $("field-layer").setAttribute("viewBox", viewBox);
  drawFieldBoxes();

  const list = $("lines");
  list.replaceChildren(...page.lines.map((line, index) => lineItem(page, line, index)));
  if (!page.lines.length) list.append(el("li", { class: "none", text: t("job.noText") }));
  applyZoom();
}

function showPage(at, { focus = false } = {}) {
  const all = pages();
  if (at < 0 || at >= all.length || at === pageAt) return;
  pageAt = at;
  const params = new URLSearchParams(window.location.search);
  if (at === 0) params.delete("page");
  else params.set("page", String(all[at].index + 1));
  const query = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (query ? `?${query}` : ""));
  renderPage();
  if (focus) $("page-select").focus();
}

// --- the lines -----------------------------------------------------------------------------------

function lineItem(page, line, index) {
  const name = key(page.index, index);
  const changes = lineHistory.get(name) || [];
  const low = line.confidence < LOW_CONFIDENCE && !changes.length;
  const number = index + 1;
  const li = el("li", {
    "data-i": String(index),
    class: ["line", low ? "low" : "", changes.length ? "corrected" : ""].filter(Boolean).join(" "),
  });
  li.append(el("span", { class: "n", text: String(number) }));
  const draft = drafts.get(name);
  if (draft) {
    li.append(editor(page, index, draft));
  } else {
    li.append(
      el("span", {
        class: "t",
        text: line.text,
        title: low ? `${t("job.lowConfidence")} · ${Math.round(line.confidence * 100)}%` : undefined,
        onclick: () => startEdit(index),
      }),
    );
  }
  if (changes.length) {
    const first = changes[0];
    const latest = changes[changes.length - 1];
    const when = [latest.by, latest.at ? formatTime(latest.at) : ""].filter(Boolean).join(" · ");
    li.append(
      badge(`✓ ${t("review.corrected")}`, "ok corrected-mark", t("review.was", { text: first.old_text }) + (when ? `\n${when}` : "")),
    );
  }
  if (!draft) {
    li.append(
      el("button", {
        type: "button",
        class: "ghost edit",
        "aria-label": t("review.edit", { n: number }),
        title: t("review.edit", { n: number }),
        text: "✎",
        onclick: () => startEdit(index),
      }),
    );
  }
  return li;
}

function editor(page, index, draft) {
  const input = el("input", {
    type: "text",
    class: "line-input",
    "aria-label": t("review.lineLabel", { n: index + 1 }),
    spellcheck: "false",
    autocomplete: "off",
  });
  input.value = draft.value;
  const problem = el("div", { class: "line-error", role: "alert", text: draft.error || "" });
  problem.classList.toggle("hidden", !draft.error);
  if (draft.error) input.setAttribute("aria-invalid", "true");
  input.addEventListener("input", () => {
    draft.value = input.value;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      save(page, index, draft, input, problem);
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancelEdit(page, index);
    }
  });
  return el("span", { class: "t editing" }, input, problem);
}

function lineNode(index) {
  return $("lines").querySelector(`li[data-i="${index}"]`);
}

// A line drawn again (a removed node gets no focusout or mouseout: its box would stay lit).
function redrawLine(page, index) {
  for (const node of partners(index)) node.classList.remove("hot");
  const fresh = lineItem(page, page.lines[index], index);
  lineNode(index).replaceWith(fresh);
  return fresh;
}

function startEdit(index) {
  const page = currentPage();
  const name = key(page.index, index);
  if (!drafts.has(name)) drafts.set(name, { value: page.lines[index].text, error: "" });
  const fresh = redrawLine(page, index);
  select(index);
  const input = fresh.querySelector("input");
  input.focus();
  input.select();
}

function cancelEdit(page, index) {
  drafts.delete(key(page.index, index));
  if (currentPage() !== page) return;
  redrawLine(page, index).querySelector("button.edit").focus();
}

async function save(page, index, draft, input, problem) {
  const text = input.value;
  if (input.readOnly) return; // already being saved
  if (text === page.lines[index].text) {
    cancelEdit(page, index);
    return;
  }
  input.readOnly = true;
  input.setAttribute("aria-busy", "true");
  $("save-state").textContent = t("review.saving");
  const reply = await call(`${api}/pages/${page.index}/lines/${index}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text }),
  });
  input.readOnly = false;
  input.removeAttribute("aria-busy");
  if (!succeeded(reply)) {
    const words = reply.status === 409 ? t("review.conflict") : reason(reply);
    draft.error = t("review.notSaved", { reason: words });
    $("save-state").textContent = "";
    problem.textContent = draft.error;
    problem.classList.remove("hidden");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  const data = reply.body.data;
  page.lines[index] = { ...page.lines[index], ...(data.line || { text }) };
  if (data.correction) {
    if (!Array.isArray(item.corrections)) item.corrections = [];
    item.corrections.push(data.correction);
  }
  if (data.version) item.version = data.version;
  indexCorrections();
  drafts.delete(key(page.index, index));
  $("save-state").textContent = t("review.saved");
  renderHead();
  if (currentPage() === page) {
    const fresh = redrawLine(page, index);
    const title = $("boxes").querySelector(`polygon[data-i="${index}"] title`);
    if (title) title.textContent = page.lines[index].text;
    select(index);
    fresh.querySelector("button.edit").focus();
  }
}

// --- highlighting --------------------------------------------------------------------------------

function partners(index) {
  return document.querySelectorAll(`#boxes [data-i="${index}"], #lines [data-i="${index}"]`);
}

function select(index) {
  for (const node of document.querySelectorAll("#boxes .selected, #lines .selected")) node.classList.remove("selected");
  for (const node of partners(index)) node.classList.add("selected");
}

function linkHighlights() {
  const work = $("work");
  const over = (event, on) => {
    const target = event.target.closest("#boxes [data-i], #lines [data-i]");
    if (target) for (const node of partners(target.dataset.i)) node.classList.toggle("hot", on);
  };
  work.addEventListener("mouseover", (event) => over(event, true));
  work.addEventListener("mouseout", (event) => over(event, false));
  work.addEventListener("focusin", (event) => over(event, true));
  work.addEventListener("focusout", (event) => over(event, false));
  // A box clicked: its line is brought into view and opened for correcting.
  $("boxes").addEventListener("click", (event) => {
    const target = event.target.closest("[data-i]");
    if (!target) return;
    const index = Number(target.dataset.i);
    startEdit(index);
    lineNode(index).scrollIntoView({ block: "nearest" });
  });
  // Up and down arrows move between the lines' buttons.
  $("lines").addEventListener("keydown", (event) => {
    if (!event.target.matches("button.edit") || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    const li = event.target.closest("li");
    const next = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
    const button = next && next.querySelector("button.edit, input");
    if (button) {
      event.preventDefault();
      button.focus();
    }
  });
}

// The fields' boxes on the page shown: all of them faintly, the one hovered or pinned outlined.
function fieldTargets() {
  const fields = item.result && item.result.fields;
  if (!fields || !fields.values) return [];
  return Object.entries(fields.values)
    .filter(([, value]) => value && Array.isArray(value.box))
    .map(([name, value]) => ({ page: Number(value.page) || 0, box: value.box, key: `field:${name}` }));
}

function outline(target, cls) {
  const corners = target.box.map(([x, y]) => `${Number(x)},${Number(y)}`);
  return svgEl("path", { class: cls, d: `M${corners.join(" L")} Z`, "data-key": target.key });
}

function drawFieldBoxes(active = pinned) {
  const page = currentPage();
  const layer = $("field-layer");
  const here = fieldTargets().filter((target) => page && target.page === page.index);
  layer.replaceChildren(...here.map((target) => outline(target, "field-box")));
  if (active && Array.isArray(active.box) && page && (Number(active.page) || 0) === page.index) {
    layer.append(outline(active, "field-highlight"));
  }
  for (const row of document.querySelectorAll(".fields tr.pinned")) row.classList.remove("pinned");
  if (pinned) {
    const name = pinned.key.split(":").slice(1).join(":");
    const row = document.querySelector(`.fields tr[data-field="${CSS.escape(name)}"], .fields tr[data-pair="${CSS.escape(name)}"]`);
    if (row) row.classList.add("pinned");
  }
}

const highlighter = {
  show(target) {
    drawFieldBoxes(target);
  },
  hide() {
    drawFieldBoxes(pinned);
  },
  toggle(target) {
    pinned = pinned && pinned.key === target.key ? null : target;
    const shown = pinned || target;
    const at = pages().findIndex((page) => page.index === (Number(shown.page) || 0));
    if (at >= 0 && at !== pageAt) showPage(at);
    drawFieldBoxes(shown);
    if (pinned) $("canvas").scrollIntoView({ block: "nearest", behavior: "smooth" });
  },
};

// --- zoom ----------------------------------------------------------------------------------------

function applyZoom(anchor) {
  const canvas = $("canvas");
  const frame = $("frame");
  const before = frame.getBoundingClientRect();
  frame.style.width = `${zoom * 100}%`;
  $("zoom-level").textContent = `${Math.round(zoom * 100)}%`;
  $("zoom-out").disabled = zoom <= ZOOMS[0];
  $("zoom-in").disabled = zoom >= ZOOMS[ZOOMS.length - 1];
  if (anchor && before.width) {
    // Keep the point under the pointer where it was.
    const after = frame.getBoundingClientRect();
    const scale = after.width / before.width;
    canvas.scrollLeft += (anchor.x - before.left) * scale - (anchor.x - before.left);
    canvas.scrollTop += (anchor.y - before.top) * scale - (anchor.y - before.top);
  }
}

function zoomBy(step, anchor) {
  const next = step > 0 ? ZOOMS.find((value) => value > zoom + 1e-9) : [...ZOOMS].reverse().find((value) => value < zoom - 1e-9);
  if (next === undefined) return;
  zoom = next;
  applyZoom(anchor);
}

function wireZoom() {
  $("zoom-in").addEventListener("click", () => zoomBy(1));
  $("zoom-out").addEventListener("click", () => zoomBy(-1));
  $("zoom-fit").addEventListener("click", () => {
    zoom = 1;
    applyZoom();
  });
  $("canvas").addEventListener(
    "wheel",
    (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      zoomBy(event.deltaY < 0 ? 1 : -1, { x: event.clientX, y: event.clientY });
    },
    { passive: false },
  );
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !item) return;
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "+" || event.key === "=") zoomBy(1);
    else if (event.key === "-" || event.key === "_") zoomBy(-1);
    else if (event.key === "0") {
      zoom = 1;
      applyZoom();
    } else return;
    event.preventDefault();
  });
}

// --- loading -------------------------------------------------------------------------------------

function showProblem(words) {
  $("loading").classList.add("hidden");
  const problem = $("problem");
  problem.replaceChildren(el("span", { text: words }));
  problem.classList.remove("hidden");
}

// Buttons showing a sign only (‹ › − +) are named for screen readers and the keyboard.
function nameButtons() {
  for (const [id, name] of [["prev-page", "review.prevPage"], ["next-page", "review.nextPage"], ["zoom-out", "review.zoomOut"], ["zoom-in", "review.zoomIn"]]) {
    $(id).setAttribute("aria-label", t(name));
  }
}

function renderAll() {
  nameButtons();
  if (!item) return;
  renderHead();
  if (item.outcome === "failed") {
    const problem = $("problem");
    problem.replaceChildren(el("strong", { text: t("review.failed") }), " ", el("span", { class: "error-text", text: item.error || "" }));
    problem.classList.remove("hidden");
  }
  if (!pages().length) {
    $("work").classList.add("hidden");
    return;
  }
  $("work").classList.remove("hidden");
  const fields = fieldsView(item.result.fields, highlighter);
  $("fields").replaceChildren(...(fields ? [fields] : []));
  renderPage();
}

async function load() {
  const reply = await call(api);
  if (signInIfNeeded(reply)) return;
  $("loading").classList.add("hidden");
  if (!succeeded(reply)) {
    showProblem(reply.status === 404 ? t("review.notFound") : t("review.loadFailed", { reason: reason(reply) }));
  } else {
    item = reply.body.data;
    indexCorrections();
    const wanted = Number.parseInt(new URLSearchParams(window.location.search).get("page"), 10);
    const at = pages().findIndex((page) => page.index + 1 === wanted);
    pageAt = at >= 0 ? at : 0;
    renderAll();
  }
  document.body.dataset.ready = "true";
}

async function loadChrome() {
  const reply = await call("/api/info");
  if (succeeded(reply)) $("logout").classList.toggle("hidden", reply.body.data.auth !== "token");
}

// Back to the list the reader came from, with its search and filters, when there was one.
try {
  const from = new URL(document.referrer);
  if (from.origin === window.location.origin && from.pathname === "/results") $("back").href = from.pathname + from.search;
} catch (_) {
  // no referrer: the plain list
}

$("prev-page").addEventListener("click", () => showPage(pageAt - 1));
$("next-page").addEventListener("click", () => showPage(pageAt + 1));
$("page-select").addEventListener("change", () => showPage(Number($("page-select").value), { focus: true }));
$("show-boxes").addEventListener("change", () => $("work").classList.toggle("hide-boxes", !$("show-boxes").checked));
$("page-image").addEventListener("error", () => {
  if (!$("page-image").getAttribute("src")) return;
  $("page-image").classList.add("hidden");
  $("no-image").classList.remove("hidden");
});
nameButtons();
wireZoom();
linkHighlights();
setupLanguageButton(renderAll);
loadChrome();
load();
