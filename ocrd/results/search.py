"""Finding results: file name or text, with filters, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from ocrd.results.records import Query

SNIPPET_AROUND = 40  # characters of text shown on each side of the match
TRIGRAM = 3  # the full-text index finds substrings of at least this many characters


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where_of(query: Query, *, fts: bool) -> tuple[str, list[Any]]:
    """The WHERE clause (with its parameters) that selects the results a query asks for."""
    clauses: list[str] = []
    params: list[Any] = []
    if query.q:
        if fts and len(query.q) >= TRIGRAM:
            clauses.append("rowid IN (SELECT rowid FROM results_text WHERE results_text MATCH ?)")
            params.append('"' + query.q.replace('"', '""') + '"')  # one phrase: no FTS syntax from users
        else:
            clauses.append("(source LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')")
            params += [_like(query.q), _like(query.q)]
    if query.inbox is not None:
        clauses.append("inbox = ?")
        params.append(query.inbox)
    if query.needs_review is not None:
        clauses.append("needs_review = ?")
        params.append(int(query.needs_review))
    if query.outcome is not None:
        clauses.append("outcome = ?")
        params.append(query.outcome)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def snippet(body: str, q: str | None) -> str | None:
    """The text around the first match; the start of the text when only the file name matched."""
    if not q:
        return None
    at = body.casefold().find(q.casefold())
    if at < 0:  # the file name matched: the text's beginning says what the document is
        return body[: 2 * SNIPPET_AROUND].replace("\n", " ") or None
    start, end = max(0, at - SNIPPET_AROUND), min(len(body), at + len(q) + SNIPPET_AROUND)
    text = body[start:end].replace("\n", " ")
    return ("…" if start else "") + text + ("…" if end < len(body) else "")
