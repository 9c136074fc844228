"""Domain model: dossiers, statuses, codes. Pure Python, no I/O."""
