"""ocrd: offline Chinese + English OCR for CPU servers."""

__version__ = "0.1.0"
