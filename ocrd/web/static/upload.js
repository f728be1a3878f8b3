// The upload page: files in (choose, drop or paste), jobs of the job API out, each page shown with
// its detected lines outlined beside the text. Plain DOM, no framework, nothing from outside.

import { el, svgEl } from "./dom.js";
import { fieldsView } from "./fields.js";
import { formatBytes, has, setupLanguageButton, t } from "./i18n.js";

const UPLOADS_AT_ONCE = 2; // files sent at the same time; the rest wait their turn here
const PAGES_SHOWN = 20; // pages drawn at first for long documents ("show all" draws the rest)
const LOW_CONFIDENCE = 0.8; // lines below this are marked as uncertain
const BUSY_RETRIES = 40; // times a "server busy" answer is retried before giving up
const POLL_WAIT = 25; // seconds the server may hold a status request until the job finishes

const jobsBox = document.getElementById("jobs");
const emptyNote = document.getElementById("empty-note");
const input = document.getElementById("file-input");
const dropzone = document.getElementById("dropzone");
const langSelect = document.getElementById("ocr-lang");
const fieldsSelect = document.getElementById("fields-mode");
const showBoxes = document.getElementById("show-boxes");
const makePdf = document.getElementById("make-pdf");
const clearButton = document.getElementById("clear-finished");
const toastBox = document.getElementById("toast");

const jobs = [];
const waiting = [];
let running = 0;
let info = { max_upload_bytes: 0, auth: "none" };

// --- small helpers ---------------------------------------------------------------------------------

let toastTimer = 0;
function toast(message) {
  toastBox.textContent = message;
  toastBox.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toastBox.classList.remove("show"), 1800);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    return { status: response.status, body };
  } catch (_) {
    return { status: 0, body: null };
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    // Plain http on a LAN address is not a "secure context": no clipboard API there.
    const area = el("textarea", { readonly: true });
    area.style.position = "fixed"; // CSSOM, not a style attribute: allowed by the page's CSP
    area.style.opacity = "0";
    area.value = text;
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

// --- one file's job ---------------------------------------------------------------------------------

class Job {
  constructor(file) {
    this.file = file;
    this.name = file.name || "pasted-image.png";
    this.phase = "queued"; // queued, uploading, busy, reading, done, failed
    this.percent = 0;
    this.retryIn = 0;
    this.id = null;
    this.summary = null;
    this.result = null;
    this.error = null; // {code, msg}
    this.links = {}; // what the job API offers for it once done (json, txt, pdf, review)
    this.resultId = null; // its id in the results, when the job answer names it
    this.seconds = 0;
    this.pagesShown = PAGES_SHOWN;
    this.highlighter = fieldHighlighter(this);
    this.card = el("article", { class: "job" });
    this.build();
  }

  get finished() {
    return this.phase === "done" || this.phase === "failed";
  }

  build() {
    this.nameEl = el("span", { class: "job-name", text: this.name });
    this.sizeEl = el("span", { class: "job-size", text: formatBytes(this.file.size) });
    this.badgeEl = el("span", { class: "badge" });
    this.stateEl = el("span", { class: "job-state" });
    this.actionsEl = el("div", { class: "job-actions" });
    this.progressEl = el("div", { class: "progress" }, el("div"));
    this.bodyEl = el("div", { class: "job-body" });
    this.card.replaceChildren(
      el("div", { class: "job-head" }, this.nameEl, this.sizeEl, this.badgeEl, this.stateEl, this.actionsEl),
      this.progressEl,
      this.bodyEl,
    );
  }

  text() {
    if (!this.result) return "";
    return this.result.pages.map((page) => page.lines.map((line) => line.text).join("\n")).join("\n\n");
  }

  renderHead() {
    const phase = this.phase;
    this.card.classList.toggle("failed", phase === "failed");
    this.card.dataset.phase = phase;
    const badge = {
      queued: ["", t("job.queued")],
      uploading: ["busy", t("job.uploading", { percent: this.percent })],
      busy: ["warn", t("job.busyRetry", { seconds: this.retryIn })],
      reading: ["busy", t("job.reading")],
      done: ["ok", "✓"],
      failed: ["bad", t("job.failed")],
    }[phase];
    this.badgeEl.className = `badge ${badge[0]}`;
    this.badgeEl.textContent = badge[1];
    this.stateEl.textContent =
      phase === "done" && this.result
        ? t("job.done", {
            pages: this.result.pages.length,
            lines: this.result.pages.reduce((sum, page) => sum + page.lines.length, 0),
            seconds: this.seconds.toFixed(1),
          })
        : "";
    const bar = this.progressEl;
    bar.classList.toggle("hidden", phase === "done" || phase === "failed");
    bar.classList.toggle("indeterminate", phase === "reading" || phase === "busy");
    bar.firstChild.style.width = phase === "uploading" ? `${this.percent}%` : "";

    const actions = [];
    if (phase === "done") {
      const base = `/api/jobs/${encodeURIComponent(this.id)}`;
      actions.push(
        el("button", { type: "button", class: "primary", "data-action": "copy", text: t("job.copy"), onclick: () => this.copy() }),
        el("a", { class: "button", href: `${base}/result.txt?download`, download: "", "data-action": "txt", text: t("job.txt") }),
        el("a", { class: "button", href: `${base}/result.json?download`, download: "", "data-action": "json", text: t("job.json") }),
      );
      // The upload's entry in the results, where its lines can be corrected (when the server keeps results).
      const review = this.links.review || (this.resultId ? `/results/${encodeURIComponent(this.resultId)}` : null);
      if (review) actions.push(el("a", { class: "button", href: review, "data-action": "review", text: t("job.review") }));
      // Only for uploads sent with "Searchable PDF" ticked: the worker wrote it while reading.
      if (this.links.pdf) {
        actions.push(el("a", { class: "button", href: this.links.pdf, download: "", "data-action": "pdf", text: t("job.pdf") }));
      }
    }
    if (this.finished) {
      actions.push(el("button", { type: "button", class: "ghost", text: t("job.remove"), onclick: () => removeJob(this) }));
    }
    this.actionsEl.replaceChildren(...actions);
  }

  async copy() {
    toast((await copyText(this.text())) ? t("job.copied") : t("job.copyFailed"));
  }

  renderBody() {
    if (this.phase === "failed" && this.error) {
      this.bodyEl.replaceChildren(errorView(this.error));
      return;
    }
    if (this.phase !== "done" || !this.result) {
      this.bodyEl.replaceChildren();
      return;
    }
    const pages = this.result.pages;
    const shown = pages.slice(0, this.pagesShown);
    const views = shown.map((page) => pageView(this, page, pages.length));
    const fields = fieldsView(this.result.fields, this.highlighter);
    if (fields) views.unshift(fields);
    if (pages.length > shown.length) {
      views.push(
        el("button", {
          type: "button",
          class: "more-pages",
          text: t("job.morePages", { count: pages.length }),
          onclick: () => {
            this.pagesShown = pages.length;
            this.renderBody();
          },
        }),
      );
    }
    this.bodyEl.replaceChildren(...views);
  }

  render() {
    this.renderHead();
    this.renderBody();
  }
}

function errorView(error) {
  const known = has(`error.${error.code}`);
  const box = el("div", { class: "job-error", role: "alert" });
  const words = known ? t(`error.${error.code}`, error.values || {}) : error.msg || t("error.50000");
  box.append(el("div", { class: "error-text", text: words }));
  if (error.code === 40100) {
    box.append(el("a", { href: `/login?next=${encodeURIComponent("/upload")}`, text: t("job.signIn") }));
  }
  if (known && error.msg) {
    box.append(el("details", {}, el("summary", { text: t("error.details") }), el("div", { class: "error-msg", text: error.msg })));
  }
  return box;
}

function pageView(job, page, count) {
  const width = Math.max(1, page.width);
  const height = Math.max(1, page.height);
  const viewBox = `0 0 ${width} ${height}`;
  const svg = svgEl("svg", { class: "lines", viewBox, preserveAspectRatio: "none", "aria-hidden": "true" });
  // Field outlines have a layer of their own: they stay visible when line boxes are hidden.
  const fieldLayer = svgEl("svg", { class: "field-layer", viewBox, preserveAspectRatio: "none", "aria-hidden": "true" });
  const list = el("ol", { class: "page-text", lang: "zh" });
  page.lines.forEach((line, index) => {
    const points = line.box.map(([x, y]) => `${x},${y}`).join(" ");
    const polygon = svgEl("polygon", { points, "data-i": index });
    const title = svgEl("title");
    title.textContent = `${line.text} (${Math.round(line.confidence * 100)}%)`;
    polygon.append(title);
    svg.append(polygon);
    const low = line.confidence < LOW_CONFIDENCE;
    list.append(
      el(
        "li",
        { "data-i": index, class: low ? "low" : "", title: low ? `${t("job.lowConfidence")} · ${Math.round(line.confidence * 100)}%` : undefined },
        el("span", { class: "n", text: String(index + 1) }),
        el("span", { class: "t", text: line.text }),
      ),
    );
  });
  if (!page.lines.length) list.append(el("li", { class: "none", text: t("job.noText") }));

  const image = el("img", {
    src: `/api/jobs/${encodeURIComponent(job.id)}/pages/${page.index}/image`,
    alt: `${job.name} · ${page.index + 1}`,
    loading: page.index < 2 ? "eager" : "lazy",
    decoding: "async",
  });
  image.addEventListener("error", () => image.classList.add("hidden"));
  const frame = el("div", { class: "frame" }, image, svg, fieldLayer);
  frame.style.aspectRatio = `${width} / ${height}`;

  const view = el("section", { class: "page", "data-page": page.index });
  if (count > 1 || page.source === "text-layer") {
    const label = t("job.page", { n: page.index + 1, count }) + (page.source === "text-layer" ? ` · ${t("job.textLayer")}` : "");
    view.append(el("div", { class: "page-title", text: label }));
  }
  view.append(el("figure", { class: "page-figure" }, frame), list);
  linkHighlights(view);
  return view;
}

// Hovering a line highlights its box and the other way round; clicking one brings the other into view.
function linkHighlights(view) {
  const partners = (index) => view.querySelectorAll(`[data-i="${index}"]`);
  view.addEventListener("mouseover", (event) => {
    const target = event.target.closest("[data-i]");
    if (target) for (const node of partners(target.dataset.i)) node.classList.add("hot");
  });
  view.addEventListener("mouseout", (event) => {
    const target = event.target.closest("[data-i]");
    if (target) for (const node of partners(target.dataset.i)) node.classList.remove("hot");
  });
  view.addEventListener("click", (event) => {
    const target = event.target.closest("[data-i]");
    if (!target) return;
    for (const node of partners(target.dataset.i)) {
      if (node !== target) node.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
}

// Outlines a field's box on its page: shown while its row is hovered or focused, kept after a click.
// The layer's viewBox is the page in pixels, so boxes scale with the preview as line boxes do.
function fieldHighlighter(job) {
  let pinned = null;
  const draw = (target) => {
    for (const old of job.bodyEl.querySelectorAll(".field-highlight")) old.remove();
    for (const row of job.bodyEl.querySelectorAll(".fields tr.pinned")) row.classList.remove("pinned");
    if (!target || !Array.isArray(target.box)) return null;
    const layer = job.bodyEl.querySelector(`.page[data-page="${Number(target.page) || 0}"] svg.field-layer`);
    if (!layer) return null; // a page beyond those drawn
    const corners = target.box.map(([x, y]) => `${Number(x)},${Number(y)}`);
    const outline = svgEl("path", { class: "field-highlight", d: `M${corners.join(" L")} Z`, "data-key": target.key });
    layer.append(outline);
    return layer;
  };
  const markPinned = () => {
    if (!pinned) return;
    const [kind, name] = pinned.key.split(":");
    const selector = kind === "field" ? `tr[data-field="${CSS.escape(name)}"]` : `tr[data-pair="${CSS.escape(name)}"]`;
    const row = job.bodyEl.querySelector(`.fields ${selector}`);
    if (row) row.classList.add("pinned");
  };
  return {
    show(target) {
      draw(target);
      markPinned();
    },
    hide() {
      draw(pinned);
      markPinned();
    },
    toggle(target) {
      pinned = pinned && pinned.key === target.key ? null : target;
      const layer = draw(pinned || target);
      markPinned();
      if (pinned && layer) layer.closest(".page-figure").scrollIntoView({ block: "nearest", behavior: "smooth" });
    },
  };
}

// --- the work -----------------------------------------------------------------------------------------

function send(job) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/jobs");
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      job.percent = Math.min(100, Math.round((event.loaded * 100) / event.total));
      job.renderHead();
    };
    xhr.upload.onload = () => {
      job.phase = "reading";
      job.renderHead();
    };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response, retryAfter: xhr.getResponseHeader("Retry-After") });
    xhr.onerror = () => resolve({ status: 0, body: null });
    const form = new FormData();
    form.append("lang", langSelect.value);
    form.append("fields", fieldsSelect.value);
    form.append("outputs", makePdf.checked ? "json,txt,pdf" : "json,txt");
    form.append("image", job.file, job.name);
    xhr.send(form);
  });
}

function failureOf(reply) {
  if (reply.body && typeof reply.body.code === "number" && reply.body.code !== 0) {
    return { code: reply.body.code, msg: reply.body.msg };
  }
  if (reply.status === 0) return { code: "network", msg: "" };
  return { code: reply.status * 100, msg: `HTTP ${reply.status}` };
}

function fail(job, error) {
  job.phase = "failed";
  job.error = error;
  job.render();
}

async function runJob(job) {
  const started = performance.now();
  if (info.max_upload_bytes && job.file.size > info.max_upload_bytes) {
    fail(job, { code: "tooLargeLocal", msg: "", values: { size: formatBytes(info.max_upload_bytes) } });
    return;
  }
  for (let attempt = 0; ; attempt += 1) {
    job.phase = "uploading";
    job.percent = 0;
    job.renderHead();
    const reply = await send(job);
    if (reply.status === 202 && reply.body && reply.body.code === 0) {
      job.id = reply.body.data.id;
      break;
    }
    const error = failureOf(reply);
    if (reply.status === 503 && error.code === 50300 && attempt < BUSY_RETRIES) {
      // The queue is full: wait as the server asks, counting down so it is clear something happens.
      job.phase = "busy";
      for (job.retryIn = Math.min(30, Number(reply.retryAfter) || 5); job.retryIn > 0; job.retryIn -= 1) {
        job.renderHead();
        await sleep(1000);
      }
      continue;
    }
    fail(job, error);
    return;
  }
  job.phase = "reading";
  job.renderHead();
  for (;;) {
    const reply = await getJson(`/api/jobs/${encodeURIComponent(job.id)}?wait=${POLL_WAIT}`);
    if (reply.status !== 200 || !reply.body) {
      if (reply.status === 0) {
        await sleep(2000); // a dropped connection while waiting: ask again
        continue;
      }
      fail(job, failureOf(reply));
      return;
    }
    const data = reply.body.data;
    if (data.status === "done") {
      job.links = data.links || {};
      job.resultId = data.result_id || null;
      break;
    }
    if (data.status === "failed") {
      fail(job, data.error || { code: 50000, msg: "" });
      return;
    }
  }
  const result = await getJson(`/api/jobs/${encodeURIComponent(job.id)}/result.json`);
  if (result.status !== 200 || !result.body || !Array.isArray(result.body.pages)) {
    fail(job, failureOf(result));
    return;
  }
  job.result = result.body;
  job.seconds = (performance.now() - started) / 1000;
  job.phase = "done";
  job.render();
}

function pump() {
  while (running < UPLOADS_AT_ONCE && waiting.length) {
    const job = waiting.shift();
    running += 1;
    runJob(job)
      .catch((error) => fail(job, { code: 50000, msg: String(error) }))
      .finally(() => {
        running -= 1;
        updateChrome();
        pump();
      });
  }
}

function addFiles(files) {
  // Newest batch on top, in the order the files were chosen.
  const batch = files.map((file) => new Job(file));
  for (const job of [...batch].reverse()) {
    jobs.unshift(job);
    jobsBox.prepend(job.card);
    job.render();
  }
  waiting.push(...batch);
  updateChrome();
  pump();
}

function removeJob(job) {
  const index = jobs.indexOf(job);
  if (index >= 0) jobs.splice(index, 1);
  job.card.remove();
  if (job.id) fetch(`/api/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE", credentials: "same-origin" }).catch(() => {});
  updateChrome();
}

function updateChrome() {
  emptyNote.classList.toggle("hidden", jobs.length > 0);
  clearButton.classList.toggle("hidden", !jobs.some((job) => job.finished));
}

// --- wiring ---------------------------------------------------------------------------------------------

function describeLimits() {
  const formats = document.getElementById("formats");
  formats.textContent = info.max_upload_bytes ? t("upload.formats", { size: formatBytes(info.max_upload_bytes) }) : "";
}

input.addEventListener("change", () => {
  addFiles([...input.files]);
  input.value = "";
});

for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) {
  dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
}
// A file dropped anywhere on the page is taken too, instead of the browser opening it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => {
  event.preventDefault();
  if (event.dataTransfer && event.dataTransfer.files.length) addFiles([...event.dataTransfer.files]);
});

document.addEventListener("paste", (event) => {
  const files = event.clipboardData ? [...event.clipboardData.files] : [];
  if (files.length) addFiles(files);
});

showBoxes.addEventListener("change", () => jobsBox.classList.toggle("hide-boxes", !showBoxes.checked));

// Off unless asked for: writing the PDF costs the server time, and a signed PDF is refused with it.
// The choice is remembered, like the language.
const PDF_KEY = "ocrd.upload.pdf";
try {
  makePdf.checked = localStorage.getItem(PDF_KEY) === "1";
} catch (_) {
  makePdf.checked = false; // storage blocked (privacy mode): the default
}
makePdf.addEventListener("change", () => {
  try {
    localStorage.setItem(PDF_KEY, makePdf.checked ? "1" : "0");
  } catch (_) {
    // not remembered; the box still applies to this page
  }
});

clearButton.addEventListener("click", () => {
  for (const job of jobs.filter((item) => item.finished)) removeJob(job);
});

setupLanguageButton(() => {
  describeLimits();
  for (const job of jobs) {
    job.sizeEl.textContent = formatBytes(job.file.size);
    job.render();
  }
});

(async () => {
  const reply = await getJson("/api/info");
  if (reply.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent("/upload")}`;
    return;
  }
  if (reply.status === 200 && reply.body) {
    info = reply.body.data;
    if (info.default_lang) langSelect.value = info.default_lang;
    document.getElementById("logout").classList.toggle("hidden", info.auth !== "token");
  }
  describeLimits();
  document.body.dataset.ready = "true";
})();
updateChrome();
