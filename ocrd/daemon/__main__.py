"""`python -m ocrd.daemon run ...` is `ocrd run ...` (handy where the console script is not on PATH)."""

from ocrd.cli import main

main()
