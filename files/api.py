"""Uploads, listing, content and extracted text (routes come with the files issue)."""

from ninja import Router

router = Router()
