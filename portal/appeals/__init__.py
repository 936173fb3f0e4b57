"""Sanggahan and usulan: file a case, get a ticket, follow it to a decision."""

from portal.appeals.assisted_views import bp as assist_bp
from portal.appeals.views import bp

# the desa operator's assisted filing (/staf/bantu-ajukan): endpoints appeals.assist.*
bp.register_blueprint(assist_bp)

__all__ = ["bp"]
