// Talking to the JSON API from the results pages: every answer in ocrd's envelope, every failure
// turned into words for the reader, and a missing sign-in sent to the sign-in page.

import { t } from "./i18n.js";

// {status, body}; status 0 when the server could not be reached at all.
export async function call(url, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options, headers });
  } catch (_) {
    return { status: 0, body: null };
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  return { status: response.status, body };
}

export function succeeded(reply) {
  return reply.status >= 200 && reply.status < 300 && reply.body && reply.body.code === 0;
}

// The reason a call failed, in words: the server's own message when it gave one.
export function reason(reply) {
  if (reply.status === 0) return t("error.network");
  if (reply.status === 401) return t("error.40100");
  if (reply.body && typeof reply.body.msg === "string" && reply.body.msg) return reply.body.msg;
  return `${t("error.50000")} (HTTP ${reply.status})`;
}

// Sends the reader to the sign-in page (and back here after) when the answer was 401.
export function signInIfNeeded(reply) {
  if (reply.status !== 401) return false;
  const here = window.location.pathname + window.location.search;
  window.location.href = `/login?next=${encodeURIComponent(here)}`;
  return true;
}
