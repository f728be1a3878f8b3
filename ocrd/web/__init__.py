"""The web interface served by the daemon: status and upload pages, REST API, health and metrics.

Entry point: ``ocrd.web.app.init_app(supervisor)``.
"""
