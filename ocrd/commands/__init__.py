"""The subcommands of ``ocrd`` (ocrd.cli registers them), one module each, and the help layout.

The daemon's own commands (``run``, ``check-config``) live with the daemon, in
``ocrd.daemon.commands``.
"""
