"""Find my cases: a filer who proves NIK + No. KK sees every case filed with that NIK and
opens any of them on the tracking page, without the tickets. Its own blueprint (my_cases),
under the same policy as the look-up."""

from portal.appeals.mine.views import bp

__all__ = ["bp"]
