"""Prompts, versions, labels and rendering; typed system configurations (routes come with their issue)."""

from ninja import Router

router = Router()
configurations_router = Router()
