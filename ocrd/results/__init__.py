"""The results index and the corrections store: every finished document, searchable, correctable.

The daemon records each document it finishes (folder files and uploads) in a SQLite database
under the data folder, with a copy of its result (and, for uploads, of the original), so that
people can find it, open it and correct its lines after the outbox was cleaned or the upload
expired. Corrections are rows of the same database (the truth); a corrected folder result is
also written back to its sidecars. ``ocrd corrections export`` turns the corrections into an
evaluation and a training set. This package knows nothing of the web app or the daemon: both
import it.
"""

from __future__ import annotations

from ocrd.results.errors import CorrectionRefusedError, NotCorrectableError, ResultNotFoundError
from ocrd.results.index import ResultsIndex, open_index
from ocrd.results.records import NewResult, Query

__all__ = [
    "CorrectionRefusedError",
    "NewResult",
    "NotCorrectableError",
    "Query",
    "ResultNotFoundError",
    "ResultsIndex",
    "open_index",
]
