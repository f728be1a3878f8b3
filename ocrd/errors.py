"""The error hierarchy.

Every error the project raises on purpose is an ``OcrdError``. Each class knows the
process exit code the CLI should use and whether trying again later can help
(``retryable``): the daemon uses that to decide between "wait and retry" and
"move to failed/". Messages are written for the person who has to act on them:
they name the file or setting and say what to do.
"""

from __future__ import annotations

from pathlib import Path


class OcrdError(Exception):
    """Base class: an expected failure with a message a user can act on."""

    exit_code = 1
    retryable = False
    kind = "error"

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class UsageError(OcrdError):
    """Bad command-line usage or configuration."""

    exit_code = 2
    kind = "usage"


class ConfigError(UsageError):
    """A configuration file or value is invalid; names the key and the file."""

    kind = "config"


class InputError(OcrdError):
    """The input file cannot be read as a document: nothing to retry."""

    exit_code = 3
    kind = "input"


class EmptyFileError(InputError):
    kind = "empty"


class UnsupportedFormatError(InputError):
    kind = "unsupported"


class CorruptFileError(InputError):
    kind = "corrupt"


class UnreadableFileError(InputError):
    """The daemon's user may not read the file (its permissions say so)."""

    kind = "unreadable"


class EncryptedDocumentError(InputError):
    kind = "encrypted"


class LimitExceededError(InputError):
    """The file is larger than a configured limit (bytes, pages, pixels)."""

    kind = "limit"


class ModelError(OcrdError):
    """The model pack is missing, damaged or not usable."""

    exit_code = 4
    kind = "model"


class TransientError(OcrdError):
    """Something outside the file is wrong (disk full, share gone, file locked): retry later."""

    exit_code = 5
    retryable = True
    kind = "transient"


class InternalError(OcrdError):
    """A bug: an unexpected exception wrapped with context."""

    exit_code = 70
    kind = "internal"


class PdfOutputRefusedError(InputError):
    """A searchable PDF of this input would do harm: the file is refused before it is read."""

    kind = "pdf-refused"


class SignedPdfError(PdfOutputRefusedError):
    """The PDF carries a digital signature that any rewrite would invalidate."""

    kind = "signed"


class ProtectedPdfError(PdfOutputRefusedError):
    """The PDF is encrypted (even if it opens without a password): a rewrite would drop its protection."""

    kind = "protected"


class PdfaInputError(PdfOutputRefusedError):
    """PDF/A was asked for a PDF input, whose content the PDF output never rewrites to conform."""

    kind = "pdfa-input"


class SourceChangedError(TransientError):
    """The input changed after it was read, so its result no longer describes it: read it again."""

    kind = "changed"
