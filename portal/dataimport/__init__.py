"""DTSEN quarterly snapshots: the CSV contract, validation, and atomic publication by period."""
