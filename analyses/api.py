"""Submitting, waiting for, cancelling and retrying analyses (routes come with the analyses issue)."""

from ninja import Router

router = Router()
