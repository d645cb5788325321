"""Accounts of a hosted instance (AFFECTLAB_AUTH=on): `affectlab user add NAME --role ROLE`, `user list`."""
import sys
from typing import Annotated

import typer

from cli.verb import CliError, JsonOpt, Result, verb

app = typer.Typer(no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    """The password from stdin's first line, or asked twice on the terminal (never an argument:
    arguments show in `ps` and the shell history)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@verb(app, "add", help="create an account (or --replace its role and password); the password is "
                       "asked for, or read from stdin with --password-stdin, and stored as an Argon2 hash")
def add(
    name: Annotated[str, typer.Argument(help="user name (1-100 characters)")],
    role: Annotated[str, typer.Option(help="viewer, annotator (can relabel) or admin (import, train, "
                                           "export, delete)")] = "annotator",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="reset an existing account")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.store.db import write_session
    from core.store.users import add_user

    password = _password(password_stdin)
    if not password:
        raise CliError("empty password")
    with write_session() as s, s.begin():
        user = add_user(s, name, role, password, replace=replace)
        return {"user": user.name, "role": user.role}


@verb(app, "list", help="accounts with their roles (never a password or hash)")
def list_(json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.users import list_users

    with read_session() as s:
        return {"users": list_users(s)}
