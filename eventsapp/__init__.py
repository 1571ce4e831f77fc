"""eventsapp: dialogue events between a police authority and its civil-society partners."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type | None = None, **overrides: Any) -> Flask:
    """Build the application.

    `config` is a class from config.py or its name (default: `Config`); keyword overrides
    win over both, so tests can say `create_app("TestConfig", SQLALCHEMY_DATABASE_URI=...)`.
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(overrides.pop("INSTANCE_PATH", PROJECT_ROOT / "instance")),
    )
    # A doubled slash is not redirected to the address without it: a made-up secret link
    # ("/auth/set-password//x") answers 404 like any other, not a redirect somewhere else.
    app.url_map.merge_slashes = False
    if config is None:
        config = config_module.Config
    elif isinstance(config, str):
        config = getattr(config_module, config)
    app.config.from_object(config)
    app.config.update(overrides)
    # Options given by a caller add to the defaults; none drops `hide_parameters`.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **config_module.ENGINE_OPTIONS,
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    _fill_instance_defaults(app)
    from eventsapp.mail.transport import dkim_key

    dkim_key(app.config)  # a DKIM key that is set but unusable stops here, not at a mail
    if app.config["PROXY_FIX_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from eventsapp.database import configure_sqlite, db
    from eventsapp.extensions import babel, csrf, limiter, login_manager, mail, migrate
    from eventsapp.i18n import select_locale, select_timezone
    from eventsapp.public import bp as public_bp

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    limiter.init_app(app)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from eventsapp import (
        admin,
        api,
        auth,
        cli,
        embed,
        errors,
        feeds,
        formatting,
        i18n,
        logs,
        organiser,
        pagecache,
        security,
    )
    from eventsapp.access import configure_login
    from eventsapp.services.feeds import FeedCache

    configure_login(login_manager)
    app.extensions["eventsapp.feed_cache"] = FeedCache()
    pagecache.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organiser.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(embed.bp)
    errors.register(app)
    formatting.register(app)
    i18n.register(app)
    security.register(app)
    cli.register(app)
    logs.configure(app)
    return app


def _fill_instance_defaults(app: Flask) -> None:
    """Defaults that live in the instance folder: database, mail drop and secret key."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'eventsapp.sqlite'}"
    if not app.config.get("MAIL_FILE_DIR"):
        app.config["MAIL_FILE_DIR"] = str(instance / "mail")
    if not app.config.get("SECRET_KEY"):
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    translations = Path(__file__).parent / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(translations))
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["EVENTSAPP_TIMEZONE"]
