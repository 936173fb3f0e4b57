"""Public statistics at /statistik (issue 13 part 2): docs/statistics.md."""
