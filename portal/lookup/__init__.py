"""The public look-up: NIK + No. KK -> the household's desil, programs and next step."""

from portal.lookup.views import bp

__all__ = ["bp"]
