"""Sidebar sign-in for a hosted instance (AFFECTLAB_AUTH=on) and the identity pages pass to core."""
from __future__ import annotations

import streamlit as st

from core.auth import Identity, Role, auth_enabled, default_identity, serve_visitors, token_identity
from core.store.db import write_session
from core.store.users import sign_in
from ui.text import md

KEY = "identity"


def identity() -> Identity:
    """Who this browser session acts as: the signed-in identity, else the process default
    (the local admin without AFFECTLAB_AUTH, an anonymous viewer with it)."""
    return st.session_state.get(KEY) or default_identity()


def can(role: Role) -> bool:
    """Whether to offer an action (core checks again whatever the page shows)."""
    return identity().role >= role


def auth_ui() -> Identity:
    """With AFFECTLAB_AUTH=on: a sign-in form (account or token) or who is signed in, with sign
    out. Without it: nothing (a local single user). Returns identity()."""
    serve_visitors()
    if not auth_enabled():
        st.session_state.pop(KEY, None)
        return identity()
    who = st.session_state.get(KEY)
    box = st.sidebar.container(border=True)
    if who is not None:
        box.caption(f"Signed in as **{md(who.name)}** ({who.role.name.lower()})")
        if box.button("Sign out", key="sign_out"):
            st.session_state.pop(KEY, None)
            st.rerun()
        return who
    with box.form("sign_in", border=False):
        st.caption("Browsing, Live and Upload are open; sign in to label or train.")
        name = st.text_input("User", key="sign_in_user", max_chars=100)
        secret = st.text_input("Password or token", type="password", key="sign_in_secret")
        if st.form_submit_button("Sign in"):
            found = token_identity(secret) if secret and not name else _account(name, secret)
            if found is None:
                st.error("Unknown user or wrong password.")
            else:
                st.session_state[KEY] = found
                st.rerun()
    return identity()


def _account(name: str, password: str) -> Identity | None:
    if not name or not password:
        return None
    with write_session() as s, s.begin():
        return sign_in(s, name, password)
