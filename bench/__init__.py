"""`make bench`: Lexi's own machinery measured on loopback (see bench/run.py)."""
