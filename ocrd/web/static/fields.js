// The fields panel of a result: the document's kind, whether a person should check it and why,
// and its named values with their checks. Hovering or focusing a row outlines where the value was
// read on the page (through the highlighter the page passes in); clicking keeps the outline.

import { el } from "./dom.js";
import { t } from "./i18n.js";

// Printed names of the invoice fields, as they appear on the form; the key follows in the table.
const FIELD_LABELS = {
  invoice_code: "发票代码",
  invoice_number: "发票号码",
  issue_date: "开票日期",
  check_code: "校验码",
  machine_number: "机器编号",
  buyer_name: "购买方名称",
  buyer_tax_id: "购买方纳税人识别号",
  seller_name: "销售方名称",
  seller_tax_id: "销售方纳税人识别号",
  amount_pretax: "合计金额",
  tax: "合计税额",
  total: "价税合计",
  total_in_words: "价税合计（大写）",
  line_items: "项目明细",
};

const KIND_LABELS = {
  vat_special: "增值税专用发票",
  vat_normal: "增值税普通发票",
  vat_electronic_special: "增值税电子专用发票",
  vat_electronic_normal: "增值税电子普通发票",
  fully_digital: "电子发票（全电）",
  other: "其他文档",
};

const ITEM_COLUMNS = [
  ["name", "项目名称"],
  ["quantity", "数量"],
  ["unit_price", "单价"],
  ["amount", "金额"],
  ["tax_rate", "税率"],
  ["tax", "税额"],
];

export function kindLabel(kind) {
  return KIND_LABELS[kind] ? `${KIND_LABELS[kind]} ${kind}` : kind;
}

const percent = (confidence) => `${Math.round((Number(confidence) || 0) * 100)}%`;

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Rows with a box outline it on the page; the highlighter draws and removes the outline.
function locate(row, target, highlighter) {
  if (!target.box) return;
  row.classList.add("locatable");
  row.tabIndex = 0;
  row.dataset.page = String(target.page);
  row.addEventListener("mouseenter", () => highlighter.show(target));
  row.addEventListener("mouseleave", () => highlighter.hide());
  row.addEventListener("focus", () => highlighter.show(target));
  row.addEventListener("blur", () => highlighter.hide());
  row.addEventListener("click", () => highlighter.toggle(target));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      highlighter.toggle(target);
    }
  });
}

function reviewBanner(fields) {
  if (!fields.needs_review) {
    return el("div", { class: "fields-review ok", role: "status", text: `✓ ${t("fields.allPassed")}` });
  }
  const banner = el("div", { class: "fields-review bad", role: "alert" }, el("strong", { text: `⚠ ${t("fields.needsReview")}` }));
  const reasons = el("ul", { class: "fields-reasons" });
  for (const reason of fields.reasons || []) reasons.append(el("li", { text: reason }));
  if (reasons.childElementCount) banner.append(reasons);
  return banner;
}

function checksCell(checks) {
  const cell = el("td", { class: "fields-checks" });
  for (const check of checks || []) {
    const state = check.passed ? "ok" : check.severity === "warning" ? "warn" : "bad";
    const mark = check.passed ? "✓" : "✗";
    // Failed checks say why inline (that is what the reviewer needs); passed ones on hover.
    const words = check.passed || !check.message ? check.name : `${check.name}: ${check.message}`;
    cell.append(el("span", { class: `check ${state}`, title: check.message || check.name, text: `${mark} ${words}` }));
  }
  if (!cell.childElementCount) cell.append(el("span", { class: "muted", text: "—" }));
  return cell;
}

function validity(valid) {
  if (valid === true) return el("span", { class: "badge ok", text: t("fields.valid.true") });
  if (valid === false) return el("span", { class: "badge bad", text: t("fields.valid.false") });
  return null;
}

function nameCell(name) {
  const label = FIELD_LABELS[name];
  const printed = label ? [el("span", { class: "field-label", text: label }), " "] : [];
  return el("th", { scope: "row" }, ...printed, el("code", { text: name }));
}

function valueCell(item) {
  const cell = el("td", { class: "field-value" }, el("span", { class: "v", text: shown(item.value) }), validity(item.valid));
  if (item.raw !== undefined && item.raw !== null) {
    const changes = item.changes && item.changes.length ? ` (${item.changes.join(", ")})` : "";
    cell.append(el("div", { class: "field-raw", text: `${t("fields.readAs")} ${item.raw}${changes}` }));
  }
  return cell;
}

function valuesTable(entries, highlighter) {
  const head = el(
    "tr",
    {},
    ...["field", "value", "source", "confidence", "checks"].map((key) => el("th", { scope: "col", text: t(`fields.col.${key}`) })),
  );
  const body = el("tbody");
  for (const [name, item] of entries) {
    const row = el(
      "tr",
      { "data-field": name, class: item.valid === false ? "invalid" : "" },
      nameCell(name),
      valueCell(item),
      el("td", { class: "field-source", text: t(`fields.source.${item.source}`) }),
      el("td", { class: "num", text: percent(item.confidence) }),
      checksCell(item.checks),
    );
    locate(row, { page: item.page, box: item.box, key: `field:${name}` }, highlighter);
    body.append(row);
  }
  return el("table", { class: "fields-table" }, el("thead", {}, head), body);
}

function itemsTable(items) {
  const head = el("tr", {}, ...ITEM_COLUMNS.map(([key, label]) => el("th", { scope: "col", text: `${label} ${key}` })));
  const body = el("tbody");
  for (const row of items.value) {
    body.append(el("tr", {}, ...ITEM_COLUMNS.map(([key]) => el("td", { class: key === "name" ? "" : "num", text: shown(row[key]) }))));
  }
  const caption = el("caption", { text: `${FIELD_LABELS.line_items} line_items · ${percent(items.confidence)}` });
  return el("table", { class: "fields-table items" }, caption, el("thead", {}, head), body);
}

function pairsTable(pairs, highlighter) {
  const head = el("tr", {}, ...["label", "value", "confidence"].map((key) => el("th", { scope: "col", text: t(`fields.col.${key}`) })));
  const body = el("tbody");
  pairs.forEach((pair, index) => {
    const row = el(
      "tr",
      { "data-pair": String(index) },
      el("th", { scope: "row", text: pair.label }),
      el("td", { class: "field-value", text: shown(pair.value) }),
      el("td", { class: "num", text: percent(pair.confidence) }),
    );
    locate(row, { page: pair.page, box: pair.box, key: `pair:${index}` }, highlighter);
    body.append(row);
  });
  return el("table", { class: "fields-table pairs" }, el("caption", { text: t("fields.pairs") }), el("thead", {}, head), body);
}

// The panel for a result's `fields`, or null when there is nothing to show (stage off, or a
// document of no known kind without label-value pairs).
export function fieldsView(fields, highlighter) {
  if (!fields) return null;
  const invoice = fields.kind !== "other";
  const values = Object.entries(fields.values || {});
  const pairs = fields.pairs || [];
  if (!invoice && !pairs.length && !values.length) return null;
  const panel = el("section", { class: "fields", "data-kind": fields.kind, "data-review": String(Boolean(fields.needs_review)) });
  panel.append(
    el(
      "div",
      { class: "fields-head" },
      el("span", { class: "fields-title", text: t("fields.title") }),
      el("span", { class: "fields-kind", text: kindLabel(fields.kind) }),
    ),
  );
  if (invoice || (fields.reasons || []).length) panel.append(reviewBanner(fields));
  const header = values.filter(([, item]) => !Array.isArray(item.value));
  if (header.length) panel.append(valuesTable(header, highlighter));
  const items = fields.values && fields.values.line_items;
  if (items && Array.isArray(items.value) && items.value.length) panel.append(itemsTable(items));
  if (!invoice && pairs.length) panel.append(pairsTable(pairs, highlighter));
  return panel;
}
