"""Routers of the accounts domain: /auth (the caller's own account) and /users (admin)."""

from ninja import Router

auth_router = Router()
users_router = Router()
