"""Hosted-OCR APIs answered by ocrd: one module per vendor, all reading through ``recognise``.

``ocrd.web.compat.routes`` wires them into the web application.
"""
