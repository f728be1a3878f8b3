// UI text in Chinese and English. The language follows the browser (navigator.languages);
// a choice made with the language button is remembered in localStorage.

const TEXT = {
  en: {
    "app.name": "ocrd",
    "nav.status": "Status",
    "nav.upload": "Upload",
    "nav.api": "API",
    "nav.results": "Results",
    "nav.logout": "Sign out",
    "lang.switch": "中文",
    "lang.switchTitle": "切换到中文",

    "upload.title": "Recognise text",
    "upload.lead": "Images and PDFs are read on this server; nothing leaves it.",
    "upload.drop": "Drop images or PDFs here",
    "upload.or": "or",
    "upload.choose": "Choose files",
    "upload.paste": "You can also paste an image (Ctrl+V).",
    "upload.formats": "JPG, PNG, TIFF, BMP, WebP, GIF, PDF · up to {size} each",
    "upload.ocrLang": "Document language",
    "upload.lang.zh": "Chinese + English",
    "upload.lang.en": "English only",
    "upload.showBoxes": "Show line boxes",
    "upload.pdf": "Searchable PDF",
    "upload.pdfTitle": "Also make a PDF of the original pages with the recognised text as an invisible layer, to search and copy",
    "upload.clear": "Clear finished",
    "upload.fields": "Invoice fields",
    "upload.fields.auto": "Find out the kind",
    "upload.fields.off": "Off",
    "upload.empty": "Results appear here. Several files at once are fine.",

    "job.queued": "Waiting to upload",
    "job.uploading": "Uploading {percent}%",
    "job.waiting": "In the queue",
    "job.reading": "Reading…",
    "job.done": "{pages} page(s), {lines} line(s) · {seconds} s",
    "job.failed": "Failed",
    "job.busyRetry": "The server is busy; retrying in {seconds} s",
    "job.copy": "Copy text",
    "job.copied": "Copied",
    "job.copyFailed": "Copying is blocked by the browser; select the text instead",
    "job.txt": "Download TXT",
    "job.json": "Download JSON",
    "job.pdf": "Download searchable PDF",
    "job.remove": "Remove",
    "job.page": "Page {n} of {count}",
    "job.noText": "No text found on this page.",
    "job.morePages": "Show all {count} pages",
    "job.textLayer": "text layer",
    "job.lowConfidence": "uncertain",
    "job.signIn": "Sign in",

    "fields.title": "Fields",
    "fields.needsReview": "Needs review",
    "fields.allPassed": "All checks passed",
    "fields.col.field": "Field",
    "fields.col.value": "Value",
    "fields.col.source": "Source",
    "fields.col.confidence": "Confidence",
    "fields.col.checks": "Checks",
    "fields.col.label": "Label",
    "fields.source.text": "text",
    "fields.source.qr": "QR code",
    "fields.source.both": "text + QR code",
    "fields.source.rule": "rule",
    "fields.valid.true": "confirmed",
    "fields.valid.false": "invalid",
    "fields.readAs": "read as",
    "fields.pairs": "Labels and values",

    "error.40001": "The request was not understood.",
    "error.40002": "The file is empty.",
    "error.40003": "The file is damaged or incomplete.",
    "error.40004": "The PDF is protected by a password. Save a copy without the password and try again.",
    "error.40005": "The file cannot be read.",
    "error.40006": "No searchable PDF can be made of this file (it is signed or encrypted). Untick “Searchable PDF” to read its text.",
    "error.40100": "Please sign in first.",
    "error.40400": "The result is no longer available. Upload the file again.",
    "error.41300": "The file is too large.",
    "error.41301": "The document has too many pages or pixels for this server.",
    "error.41302": "Reading took too long. Try splitting the document into smaller files.",
    "error.41500": "This type of file is not supported. Use JPG, PNG, TIFF, BMP, WebP, GIF or PDF.",
    "error.50000": "Something went wrong on the server.",
    "error.50001": "The OCR worker stopped while reading this file.",
    "error.50002": "The OCR models cannot be used. Tell the administrator.",
    "error.50300": "The server is busy.",
    "error.50301": "The service is starting or shutting down. Try again shortly.",
    "error.50302": "A temporary problem on the server. Try again shortly.",
    "error.network": "The server cannot be reached.",
    "error.tooLargeLocal": "The file is larger than the limit of {size}.",
    "error.details": "Details",

    "status.title": "Service status",
    "status.updated": "Updated {time}",
    "status.unreachable": "The service cannot be reached; retrying…",
    "status.ready": "Ready",
    "status.notReady": "Not ready",
    "status.stopping": "Stopping",
    "status.version": "Version",
    "status.models": "Models",
    "status.precision": "Precision",
    "status.node": "Host",
    "status.uptime": "Up for",
    "status.workers": "Workers",
    "status.busy": "busy",
    "status.idle": "idle",
    "status.restarts": "restarts",
    "status.lastHour": "Last hour",
    "status.done": "done",
    "status.failed": "failed",
    "status.uploadsWaiting": "uploads waiting",
    "status.inboxes": "Inboxes",
    "status.noInboxes": "No inboxes are configured.",
    "status.inbox": "Inbox",
    "status.folder": "Folder",
    "status.watch": "Watching",
    "status.queue": "Queued",
    "status.inProgress": "Reading",
    "status.doneHour": "Done (1 h)",
    "status.failedHour": "Failed (1 h)",
    "status.available": "available",
    "status.unavailable": "unreachable",
    "status.paused": "paused",
    "status.outboxProblem": "results cannot be written",
    "status.unreadable": "unreadable (left in inbox)",
    "status.unsupported": "unsupported (to failed)",
    "status.recent": "Recent results",
    "status.noRecent": "Nothing read yet.",
    "status.failures": "Recent failures",
    "status.noFailures": "No failures.",
    "status.when": "When",
    "status.file": "File",
    "status.pages": "Pages",
    "status.seconds": "Seconds",
    "status.outcome": "Result",
    "status.error": "Error",
    "status.outcome.ok": "done",
    "status.outcome.reused": "reused",
    "status.outcome.failed": "failed",
    "status.cluster": "Cluster",
    "status.clusterStream": "Queue",
    "status.clusterBacklog": "Waiting for a host",
    "status.clusterPending": "Taken, not finished",
    "status.clusterStuck": "Stuck",
    "status.clusterHost": "Host",
    "status.clusterRoles": "Roles",
    "status.clusterState": "State",
    "status.clusterHeartbeat": "Last heartbeat",
    "status.clusterWorkers": "Workers busy",
    "status.clusterAgo": "{age} ago",
    "status.clusterThisHost": "this host",
    "status.clusterConnected": "This host is {host}; Redis {redis} answers.",
    "status.clusterDisconnected": "This host is {host}; Redis {redis} does not answer: {problem}",
    "status.clusterUnacked": "{count} finished jobs wait to be acknowledged.",
    "status.clusterNoHosts": "No host has sent a heartbeat yet.",
    "status.clusterNoData": "Not read from Redis yet.",
    "status.clusterRedisUp": "Redis connected",
    "status.clusterRedisDown": "Redis unreachable",
    "status.clusterRole.watch": "watch",
    "status.clusterRole.work": "work",
    "status.clusterRole.web": "web",
    "status.clusterState.running": "running",
    "status.clusterState.stopping": "stopping",
    "status.clusterState.gone": "gone",
    "status.clusterStream.files": "Inbox files",
    "status.clusterStream.uploads": "Uploads",

    "login.title": "Sign in",
    "login.lead": "This server needs an access token. Ask the administrator for it.",
    "login.token": "Access token",
    "login.submit": "Sign in",
    "login.wrong": "That token is not right.",

    "results.title": "Results",
    "results.lead": "Everything the inboxes and uploads produced, newest first. Open one to check and correct its text.",
    "results.search": "Search",
    "results.searchPlaceholder": "File name or text",
    "results.inbox": "Inbox",
    "results.anyInbox": "All inboxes",
    "results.needsReview": "Needs review",
    "results.outcome": "Outcome",
    "results.any": "Any",
    "results.yes": "Yes",
    "results.no": "No",
    "results.outcome.done": "done",
    "results.outcome.failed": "failed",
    "results.apply": "Search",
    "results.clear": "Clear",
    "results.count": "{total} result(s)",
    "results.pageOf": "Page {page} of {pages}",
    "results.prev": "Previous",
    "results.next": "Next",
    "results.pager": "Pages of results",
    "results.col.when": "When",
    "results.col.inbox": "Inbox",
    "results.col.file": "File",
    "results.col.pages": "Pages",
    "results.col.kind": "Kind",
    "results.col.review": "Review",
    "results.col.outcome": "Result",
    "results.col.corrections": "Corrections",
    "results.origin.upload": "upload",
    "results.review.true": "needs review",
    "results.review.false": "passed",
    "results.loading": "Loading…",
    "results.empty": "Nothing has been read yet. Drop a file into an inbox or upload one, and it appears here.",
    "results.noMatch": "No result matches this search. Change the filters or clear them.",
    "results.loadFailed": "The results could not be loaded: {reason}",
    "results.retry": "Try again",

    "review.title": "Review",
    "review.back": "All results",
    "review.loading": "Loading the result…",
    "review.loadFailed": "The result could not be loaded: {reason}",
    "review.notFound": "There is no such result. It may have been removed.",
    "review.failed": "This file could not be read:",
    "review.origin.folder": "inbox {name}",
    "review.origin.upload": "upload",
    "review.version": "version {n}",
    "review.corrections": "{n} correction(s)",
    "review.prevPage": "Previous page",
    "review.nextPage": "Next page",
    "review.pageSelect": "Page",
    "review.zoom": "Zoom",
    "review.zoomIn": "Zoom in (+)",
    "review.zoomOut": "Zoom out (−)",
    "review.fit": "Fit width",
    "review.hint": "Click a line to correct it: Enter saves, Esc cancels. Ctrl+wheel or the + and − keys zoom the page.",
    "review.edit": "Correct line {n}",
    "review.lineLabel": "Text of line {n}",
    "review.saving": "Saving…",
    "review.saved": "Saved",
    "review.notSaved": "Not saved: {reason}",
    "review.conflict": "a failed result has no text to correct",
    "review.corrected": "corrected",
    "review.was": "Read as: {text}",
    "review.noImage": "The page image is not available; the boxes are drawn on a blank page.",
    "review.noPages": "This result has no pages.",

    "status.openReview": "Open the review view",
    "job.review": "Review and correct",
  },
  zh: {
    "app.name": "ocrd",
    "nav.status": "状态",
    "nav.upload": "上传识别",
    "nav.api": "API",
    "nav.results": "结果",
    "nav.logout": "退出",
    "lang.switch": "English",
    "lang.switchTitle": "Switch to English",

    "upload.title": "文字识别",
    "upload.lead": "图片和 PDF 在本服务器上识别，不会传到外部。",
    "upload.drop": "把图片或 PDF 拖到这里",
    "upload.or": "或",
    "upload.choose": "选择文件",
    "upload.paste": "也可以直接粘贴图片（Ctrl+V）。",
    "upload.formats": "JPG、PNG、TIFF、BMP、WebP、GIF、PDF · 每个文件不超过 {size}",
    "upload.ocrLang": "文档语言",
    "upload.lang.zh": "中文 + 英文",
    "upload.lang.en": "仅英文",
    "upload.showBoxes": "显示文字框",
    "upload.pdf": "可搜索 PDF",
    "upload.pdfTitle": "同时生成 PDF：原始页面加上不可见的识别文字层，可搜索、可复制",
    "upload.clear": "清除已完成",
    "upload.fields": "发票字段",
    "upload.fields.auto": "自动判断票种",
    "upload.fields.off": "不提取",
    "upload.empty": "识别结果显示在这里，可以一次上传多个文件。",

    "job.queued": "等待上传",
    "job.uploading": "上传中 {percent}%",
    "job.waiting": "排队中",
    "job.reading": "识别中…",
    "job.done": "{pages} 页，{lines} 行 · {seconds} 秒",
    "job.failed": "失败",
    "job.busyRetry": "服务器繁忙，{seconds} 秒后重试",
    "job.copy": "复制文字",
    "job.copied": "已复制",
    "job.copyFailed": "浏览器不允许复制，请手动选择文字",
    "job.txt": "下载 TXT",
    "job.json": "下载 JSON",
    "job.pdf": "下载可搜索 PDF",
    "job.remove": "移除",
    "job.page": "第 {n} 页，共 {count} 页",
    "job.noText": "这一页没有识别到文字。",
    "job.morePages": "显示全部 {count} 页",
    "job.textLayer": "文本层",
    "job.lowConfidence": "不确定",
    "job.signIn": "登录",

    "fields.title": "字段",
    "fields.needsReview": "需要人工核对",
    "fields.allPassed": "全部校验通过",
    "fields.col.field": "字段",
    "fields.col.value": "值",
    "fields.col.source": "来源",
    "fields.col.confidence": "置信度",
    "fields.col.checks": "校验",
    "fields.col.label": "标签",
    "fields.source.text": "文字",
    "fields.source.qr": "二维码",
    "fields.source.both": "文字 + 二维码",
    "fields.source.rule": "规则",
    "fields.valid.true": "已确认",
    "fields.valid.false": "有误",
    "fields.readAs": "识别为",
    "fields.pairs": "标签与值",

    "error.40001": "请求格式不正确。",
    "error.40002": "文件是空的。",
    "error.40003": "文件已损坏或不完整。",
    "error.40004": "PDF 设有密码。请另存一份无密码的副本再上传。",
    "error.40005": "无法读取该文件。",
    "error.40006": "无法为该文件生成可搜索 PDF（文件已签名或已加密）。取消勾选“可搜索 PDF”即可识别其文字。",
    "error.40100": "请先登录。",
    "error.40400": "结果已过期，请重新上传文件。",
    "error.41300": "文件太大。",
    "error.41301": "文档的页数或像素超出了服务器的限制。",
    "error.41302": "识别时间过长，请把文档拆分成较小的文件。",
    "error.41500": "不支持此文件类型，请使用 JPG、PNG、TIFF、BMP、WebP、GIF 或 PDF。",
    "error.50000": "服务器出错了。",
    "error.50001": "识别进程在处理此文件时意外停止。",
    "error.50002": "识别模型不可用，请联系管理员。",
    "error.50300": "服务器繁忙。",
    "error.50301": "服务正在启动或停止，请稍后再试。",
    "error.50302": "服务器出现临时问题，请稍后再试。",
    "error.network": "无法连接服务器。",
    "error.tooLargeLocal": "文件超过了 {size} 的限制。",
    "error.details": "详细信息",

    "status.title": "服务状态",
    "status.updated": "更新于 {time}",
    "status.unreachable": "无法连接服务，正在重试…",
    "status.ready": "就绪",
    "status.notReady": "未就绪",
    "status.stopping": "正在停止",
    "status.version": "版本",
    "status.models": "模型",
    "status.precision": "精度",
    "status.node": "主机",
    "status.uptime": "已运行",
    "status.workers": "工作进程",
    "status.busy": "忙碌",
    "status.idle": "空闲",
    "status.restarts": "重启",
    "status.lastHour": "最近一小时",
    "status.done": "完成",
    "status.failed": "失败",
    "status.uploadsWaiting": "个上传在排队",
    "status.inboxes": "收件文件夹",
    "status.noInboxes": "没有配置收件文件夹。",
    "status.inbox": "名称",
    "status.folder": "文件夹",
    "status.watch": "监视方式",
    "status.queue": "排队",
    "status.inProgress": "识别中",
    "status.doneHour": "完成（1 小时）",
    "status.failedHour": "失败（1 小时）",
    "status.available": "可用",
    "status.unavailable": "无法访问",
    "status.paused": "已暂停",
    "status.outboxProblem": "结果无法写入",
    "status.unreadable": "个文件无法读取（留在收件夹）",
    "status.unsupported": "个不支持的文件（已移到 failed）",
    "status.recent": "最近的结果",
    "status.noRecent": "还没有处理过文件。",
    "status.failures": "最近的失败",
    "status.noFailures": "没有失败。",
    "status.when": "时间",
    "status.file": "文件",
    "status.pages": "页数",
    "status.seconds": "秒",
    "status.outcome": "结果",
    "status.error": "错误",
    "status.outcome.ok": "完成",
    "status.outcome.reused": "复用",
    "status.outcome.failed": "失败",
    "status.cluster": "集群",
    "status.clusterStream": "队列",
    "status.clusterBacklog": "等待主机领取",
    "status.clusterPending": "已领取、未完成",
    "status.clusterStuck": "卡住",
    "status.clusterHost": "主机",
    "status.clusterRoles": "角色",
    "status.clusterState": "状态",
    "status.clusterHeartbeat": "上次心跳",
    "status.clusterWorkers": "忙碌的工作进程",
    "status.clusterAgo": "{age}前",
    "status.clusterThisHost": "本机",
    "status.clusterConnected": "本机为 {host}；Redis {redis} 连接正常。",
    "status.clusterDisconnected": "本机为 {host}；Redis {redis} 无响应：{problem}",
    "status.clusterUnacked": "{count} 个已完成的任务等待确认。",
    "status.clusterNoHosts": "还没有主机发送心跳。",
    "status.clusterNoData": "尚未从 Redis 读取。",
    "status.clusterRedisUp": "Redis 已连接",
    "status.clusterRedisDown": "Redis 无法连接",
    "status.clusterRole.watch": "监视",
    "status.clusterRole.work": "识别",
    "status.clusterRole.web": "网页",
    "status.clusterState.running": "运行中",
    "status.clusterState.stopping": "正在停止",
    "status.clusterState.gone": "已离线",
    "status.clusterStream.files": "收件文件",
    "status.clusterStream.uploads": "上传",

    "login.title": "登录",
    "login.lead": "此服务器需要访问令牌，请向管理员索取。",
    "login.token": "访问令牌",
    "login.submit": "登录",
    "login.wrong": "令牌不正确。",

    "results.title": "识别结果",
    "results.lead": "收件文件夹和上传产生的全部结果，最新的在前。打开一条即可核对并更正文字。",
    "results.search": "搜索",
    "results.searchPlaceholder": "文件名或文字",
    "results.inbox": "收件文件夹",
    "results.anyInbox": "全部文件夹",
    "results.needsReview": "需要核对",
    "results.outcome": "结果",
    "results.any": "全部",
    "results.yes": "是",
    "results.no": "否",
    "results.outcome.done": "完成",
    "results.outcome.failed": "失败",
    "results.apply": "搜索",
    "results.clear": "清除",
    "results.count": "共 {total} 条结果",
    "results.pageOf": "第 {page} 页，共 {pages} 页",
    "results.prev": "上一页",
    "results.next": "下一页",
    "results.pager": "结果分页",
    "results.col.when": "时间",
    "results.col.inbox": "来源",
    "results.col.file": "文件",
    "results.col.pages": "页数",
    "results.col.kind": "类型",
    "results.col.review": "核对",
    "results.col.outcome": "结果",
    "results.col.corrections": "更正",
    "results.origin.upload": "上传",
    "results.review.true": "需要核对",
    "results.review.false": "已通过",
    "results.loading": "正在加载…",
    "results.empty": "还没有识别过文件。把文件放进收件文件夹或上传文件后，结果会出现在这里。",
    "results.noMatch": "没有符合条件的结果。请修改或清除筛选条件。",
    "results.loadFailed": "无法加载结果：{reason}",
    "results.retry": "重试",

    "review.title": "核对",
    "review.back": "全部结果",
    "review.loading": "正在加载结果…",
    "review.loadFailed": "无法加载结果：{reason}",
    "review.notFound": "没有这个结果，可能已被删除。",
    "review.failed": "该文件未能识别：",
    "review.origin.folder": "收件文件夹 {name}",
    "review.origin.upload": "上传",
    "review.version": "第 {n} 版",
    "review.corrections": "{n} 处更正",
    "review.prevPage": "上一页",
    "review.nextPage": "下一页",
    "review.pageSelect": "页码",
    "review.zoom": "缩放",
    "review.zoomIn": "放大（+）",
    "review.zoomOut": "缩小（−）",
    "review.fit": "适合宽度",
    "review.hint": "点击一行即可更正：按 Enter 保存，按 Esc 取消。按住 Ctrl 滚动滚轮或按 + 和 − 键缩放页面。",
    "review.edit": "更正第 {n} 行",
    "review.lineLabel": "第 {n} 行的文字",
    "review.saving": "正在保存…",
    "review.saved": "已保存",
    "review.notSaved": "未保存：{reason}",
    "review.conflict": "识别失败的结果没有可更正的文字",
    "review.corrected": "已更正",
    "review.was": "原识别为：{text}",
    "review.noImage": "页面图像不可用，方框画在空白页上。",
    "review.noPages": "这个结果没有页面。",

    "status.openReview": "打开核对视图",
    "job.review": "核对与更正",
  },
};

const STORE_KEY = "ocrd.ui-language";

function browserLanguage() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith("zh")) return "zh";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

let current = (() => {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved === "zh" || saved === "en") return saved;
  } catch (_) {
    /* storage blocked: follow the browser */
  }
  return browserLanguage();
})();

export function language() {
  return current;
}

export function t(key, values = {}) {
  const text = (TEXT[current] && TEXT[current][key]) || TEXT.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

export function has(key) {
  return key in TEXT.en;
}

// Fill every element marked data-i18n (text) or data-i18n-title / data-i18n-placeholder.
export function translatePage(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

// The header's language button; onChange re-renders what scripts drew themselves.
export function setupLanguageButton(onChange = () => {}) {
  const button = document.getElementById("ui-language");
  translatePage();
  if (!button) return;
  button.addEventListener("click", () => {
    current = current === "zh" ? "en" : "zh";
    try {
      localStorage.setItem(STORE_KEY, current);
    } catch (_) {
      /* not remembered, still switched */
    }
    translatePage();
    onChange();
  });
}

export function formatBytes(bytes) {
  const units = current === "zh" ? ["字节", "KB", "MB", "GB"] : ["bytes", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(current === "zh" ? "zh-CN" : "en", {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (current === "zh") {
    if (d) return `${d} 天 ${h} 小时`;
    if (h) return `${h} 小时 ${m} 分`;
    return m ? `${m} 分 ${s % 60} 秒` : `${s} 秒`;
  }
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}
