"""Flask extensions, created unbound (no app import); create_app() binds them."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect

from portal.security import client_network

csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_network)
