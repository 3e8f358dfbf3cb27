"""User admin (admins): list the console's accounts, add one, change role and unit, disable and enable,
reset a password. The functions are ``storage.users``' (as ``yuqing users``), which audit every change
by the admin's name. An admin cannot disable, or take the admin role from, their own account."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from storage.users import (
    User,
    add_user,
    check_unit,
    list_users,
    new_password,
    set_password,
    update_user,
)
from web.auth import Visitor, console, guard
from web.console import Console
from web.zh import zh
from yuqing.base.errors import YuqingError

ROLE_NAMES = {"admin": "管理员", "analyst": "分析员", "viewer": "只读"}


def units(con: Console) -> dict[str, str]:
    """The units a user may belong to: the recipient groups of alerts.yaml, id → name."""
    return {g.id: g.name for g in con.config.alerts.groups}


def users_page(request: Request, con: Console, who: Visitor, *, status: int = 200, **extra: Any) -> Response:
    with con.app.session() as session:
        users = list_users(session)
    context = {"who": who, "users": users, "roles": ROLE_NAMES, "units": units(con), **extra}
    return con.render(request, "users.html", context, status)


def _field(form: Any, key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


async def _change(request: Request, change: Any) -> tuple[Console, Visitor, Any]:
    """Run one change of ``storage.users`` as the signed-in admin; a refused change is a 400 in Chinese."""
    who = await guard(request, "admin")
    con = console(request)
    form = await request.form()
    try:
        with con.app.session() as session:
            result = change(session, form, who, con)
    except YuqingError as exc:
        raise HTTPException(400, zh(exc.message)) from None  # nothing was changed: the session rolled back
    return con, who, result


def _add(session: Any, form: Any, who: Visitor, con: Console) -> tuple[User, str | None]:
    typed = str(form.get("password", ""))
    chosen = typed or new_password()
    unit = check_unit(_field(form, "unit"), units(con))
    role = _field(form, "role")
    user = add_user(
        session, _field(form, "name"), role=role, unit=unit, password=chosen, by=who.user.name, now=con.clock()
    )
    return user, None if typed else chosen


async def user_add(request: Request) -> Response:
    con, who, (user, shown) = await _change(request, _add)
    flash = f"已添加用户 {user.name}（{ROLE_NAMES.get(user.role, user.role)}）"
    return users_page(request, con, who, flash=flash, new_password=shown, password_of=user.name, password_kind="初始")


def _own(who: Visitor, name: str, what: str) -> None:
    if who.user.name == name:
        raise HTTPException(400, f"不能{what}自己的账号")


def _update(session: Any, form: Any, who: Visitor, con: Console, name: str) -> User:
    role = _field(form, "role") or None
    if role is not None and role != "admin":
        _own(who, name, "取消管理员角色：")
    unit = check_unit(_field(form, "unit"), units(con)) or ""
    return update_user(session, name, role=role, unit=unit, by=who.user.name, now=con.clock())


async def user_update(request: Request) -> Response:
    name = request.path_params["name"]
    con, who, user = await _change(request, lambda s, f, w, c: _update(s, f, w, c, name))
    return users_page(request, con, who, flash=f"已修改用户 {user.name} 的角色和单位")


async def _set_disabled(request: Request, disabled: bool) -> Response:
    name = request.path_params["name"]

    def change(session: Any, form: Any, who: Visitor, con: Console) -> User:
        if disabled:
            _own(who, name, "停用")
        return update_user(session, name, disabled=disabled, by=who.user.name, now=con.clock())

    con, who, user = await _change(request, change)
    return users_page(request, con, who, flash=f"已{'停用' if disabled else '启用'}用户 {user.name}")


async def user_disable(request: Request) -> Response:
    return await _set_disabled(request, True)


async def user_enable(request: Request) -> Response:
    return await _set_disabled(request, False)


async def user_passwd(request: Request) -> Response:
    """Set the password the admin typed, or a random one shown once; the user's sessions end."""
    name = request.path_params["name"]

    def change(session: Any, form: Any, who: Visitor, con: Console) -> str | None:
        typed = str(form.get("password", ""))
        chosen = typed or new_password()
        set_password(session, name, chosen, by=who.user.name, now=con.clock())
        return None if typed else chosen

    con, who, shown = await _change(request, change)
    return users_page(
        request, con, who, flash=f"已重置用户 {name} 的密码", new_password=shown, password_of=name, password_kind="新"
    )


async def users_list(request: Request) -> Response:
    who = await guard(request, "admin")
    return users_page(request, console(request), who)


routes = [
    Route("/admin/users", users_list, methods=["GET"]),
    Route("/admin/users", user_add, methods=["POST"]),
    Route("/admin/users/{name}/update", user_update, methods=["POST"]),
    Route("/admin/users/{name}/disable", user_disable, methods=["POST"]),
    Route("/admin/users/{name}/enable", user_enable, methods=["POST"]),
    Route("/admin/users/{name}/passwd", user_passwd, methods=["POST"]),
]
