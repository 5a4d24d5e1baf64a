"""Derived data in Redis: rolling 24-hour counters, event history and dedupe ids, written
once per (partition, batch) and fenced by the ingest positions they cover."""
