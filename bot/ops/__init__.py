"""Operating motcua: metrics, health, and the adapters that count at the boundaries."""
