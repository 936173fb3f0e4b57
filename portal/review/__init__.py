"""The staff review queue: claim, field verval, decide, export, audit, dashboard."""
