"""Maintenance tools for developers (not used at run time)."""
