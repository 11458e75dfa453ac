"""Audit events API."""

from ninja import Router

router = Router()
