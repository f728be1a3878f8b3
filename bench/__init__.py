"""The benchmark of ocrd against its peers (see bench/run.py and the README)."""
