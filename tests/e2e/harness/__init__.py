"""Helpers for spoa-mirror's end-to-end suite (see tests/e2e/README.md)."""
