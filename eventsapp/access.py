"""Who may do what. Deny by default: every back-office view names the role it needs.

Organisers act on formats hosted by their own organisation; admins on everything. A
resource of another organisation answers 404, so its existence is not confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from sqlalchemy import Select

from eventsapp.database import db
from eventsapp.models import Format, Registration, Role, Session, User


def configure_login(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Bitte loggen Sie sich ein, um diese Seite zu sehen.")
    login_manager.login_message_category = "info"
    # Off: "basic" only marks a session "not fresh" when the address or browser changes,
    # which nothing here reads, and it did so for visitors who are not signed in too, with
    # a new session cookie for every form they posted. "strong" would sign out anyone whose
    # mobile address changes. Sign-in starts a new session; sign-out ends every cookie.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The cookie holds "id:nonce"; a changed nonce (logout, new password) ends it.
        raw_id, _, nonce = user_id.partition(":")
        if not raw_id.isdigit() or not nonce:
            return None
        user = db.session.get(User, int(raw_id))
        if user is None or not user.active or user.auth_nonce != nonce:
            return None
        return user


def roles_required(*roles: Role) -> Callable:
    """Signed-in users with one of `roles`; others are sent to sign in (or get 403)."""
    from eventsapp.extensions import login_manager

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organiser_required = roles_required(Role.ORGANISER, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)


def can_manage_format(user: User, format: Format) -> bool:
    return user.is_admin or (
        user.role == Role.ORGANISER and format.host_organisation_id == user.organisation_id
    )


def managed_formats_filter(stmt: Select, user: User) -> Select:
    """Restrict a query joined with Format to the formats this user manages."""
    if user.is_admin:
        return stmt
    return stmt.where(Format.host_organisation_id == user.organisation_id)


def managed_format_or_404(format_id: int) -> Format:
    format = db.session.get(Format, format_id)
    if format is None or not can_manage_format(current_user, format):
        abort(404)
    return format


def managed_session_or_404(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None or not can_manage_format(current_user, session.format):
        abort(404)
    return session


def managed_registration_or_404(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or not can_manage_format(current_user, registration.session.format):
        abort(404)
    return registration
