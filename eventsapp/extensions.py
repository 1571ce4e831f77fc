"""Flask extensions, created unbound; `create_app` binds them."""

from __future__ import annotations

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

migrate = Migrate(render_as_batch=True, compare_type=True)
mail = Mail()
csrf = CSRFProtect()
babel = Babel()
