"""Published clinical figures with their sources (one table per topic)."""
