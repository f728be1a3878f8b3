"""The fields stage: a recognised ``Document`` in, its kind and named, checked values out.

Knows nothing of folders or HTTP; the worker, ``ocrd ocr`` and the web app call it the same way.
"""
