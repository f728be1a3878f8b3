"""Many hosts sharing the work: the job queue (Redis Streams) that the daemon's cluster link talks to.

Imported only when the configuration has a [cluster] section: a single host never loads Redis.
Arrows point one way: ocrd.daemon -> ocrd.cluster -> ocrd.config/ocrd.errors.
"""
