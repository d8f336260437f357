"""``/api/v1/users``: accounts, for admins (``admin`` scope); anybody for themselves."""

from __future__ import annotations

from flask import Blueprint

from page_tracker.api.schemas import UserCreate, UserList, UserOut, UserReplace, UserUpdate
from page_tracker.auth.principal import Principal, require
from page_tracker.auth.tokens import Scope
from page_tracker.db import get_session
from page_tracker.errors import Forbidden
from page_tracker.json_api import ROW_ID, operation
from page_tracker.users import services
from page_tracker.users.models import Role, User

blueprint = Blueprint("api_users", __name__, url_prefix="/api/v1")

_ONE_ERRORS = (401, 403, 404)
_WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415)


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        created_at=user.created_at,
    )


def _self_or_admin(user_id: int, scope: Scope) -> Principal:
    """The caller acting on user ``user_id``: themselves with ``scope``, or an admin
    with the ``admin`` scope. Checked before the lookup, so ids cannot be probed."""
    principal = require(scope)
    if principal.user.id != user_id and not principal.may(Scope.ADMIN):
        raise Forbidden("only admins may see or change other users")
    return principal


@blueprint.get("/users")
@operation(
    "All users (admins)", tag="users", access="admin", responses={200: UserList}, errors=(401, 403)
)
def list_users() -> UserList:
    require(Scope.ADMIN)
    return UserList([_user_out(user) for user in services.list_users(get_session())])


@blueprint.post("/users")
@operation(
    "Create a user (admins)",
    tag="users",
    access="admin",
    body=UserCreate,
    responses={201: UserOut},
    errors=(400, 401, 403, 409, 413, 415),
)
def create_user(body: UserCreate) -> tuple[UserOut, int]:
    require(Scope.ADMIN)
    session = get_session()
    user = services.create_user(session, body.email, body.password, name=body.name, role=body.role)
    session.commit()
    return _user_out(user), 201


@blueprint.get(f"/users/<{ROW_ID}:user_id>")
@operation(
    "A user (admins; anybody: themselves)",
    tag="users",
    access="read",
    responses={200: UserOut},
    errors=_ONE_ERRORS,
)
def get_user(user_id: int) -> UserOut:
    _self_or_admin(user_id, Scope.READ)
    return _user_out(services.get_user(get_session(), user_id))


def _update(user_id: int, body: UserReplace | UserUpdate) -> UserOut:
    principal = _self_or_admin(user_id, Scope.WRITE)
    session = get_session()
    user = services.get_user(session, user_id)
    if body.role is not None and body.role != user.role and not principal.may(Scope.ADMIN):
        raise Forbidden("only admins may change roles")
    services.update_user(
        session, user, email=body.email, name=body.name, role=body.role, password=body.password
    )
    session.commit()
    return _user_out(user)


@blueprint.put(f"/users/<{ROW_ID}:user_id>")
@operation(
    "Replace a user's email, name and role (and password when given)",
    tag="users",
    access="write",
    body=UserReplace,
    responses={200: UserOut},
    errors=_WRITE_ERRORS,
)
def replace_user(user_id: int, body: UserReplace) -> UserOut:
    return _update(user_id, body)


@blueprint.patch(f"/users/<{ROW_ID}:user_id>")
@operation(
    "Change some of a user's fields",
    tag="users",
    access="write",
    body=UserUpdate,
    responses={200: UserOut},
    errors=_WRITE_ERRORS,
)
def update_user(user_id: int, body: UserUpdate) -> UserOut:
    return _update(user_id, body)


@blueprint.delete(f"/users/<{ROW_ID}:user_id>")
@operation(
    "Delete a user, their tokens and memberships (admins)",
    tag="users",
    access="admin",
    responses={204: None},
    errors=(401, 403, 404, 409),
)
def delete_user(user_id: int) -> None:
    require(Scope.ADMIN)
    session = get_session()
    services.delete_user(session, services.get_user(session, user_id))
    session.commit()
