"""Help where people are: other ways to take part, the privacy notice, the accessibility
statement, and the contact of each kabupaten/kota's Dinas Sosial (loaded from a data file,
kept current by its admin_dinsos)."""

from portal.help.views import bp

__all__ = ["bp"]
