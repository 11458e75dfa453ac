"""The e-mails the accounts domain sends, composed from templates (plain text and HTML).

Templates live in ``accounts/templates/accounts/email/<kind>.txt`` and ``.html``; the subject
is here, next to the kind. Links point at the frontend (``FRONTEND_URL``) and carry the
single-use ``uid`` and ``token``.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.models import User

SUBJECTS = {
    "password_reset": "Reset your Parecer password",
    "email_verification": "Verify your e-mail address for Parecer",
    "email_changed": "The e-mail address of your Parecer account was changed",
}
FRONTEND_PATHS = {"password_reset": "reset-password", "email_verification": "verify-email"}


def link_email_send(*, user: User, kind: str, uid: str, token: str) -> None:
    """Send ``kind``'s e-mail to the user's current address, with its link."""
    link = f"{settings.FRONTEND_URL}/{FRONTEND_PATHS[kind]}?uid={uid}&token={token}"
    template_email_send(to=user.email, kind=kind, values={"user": user, "link": link})


def template_email_send(*, to: str, kind: str, values: dict) -> None:
    """Render ``kind``'s templates with ``values`` and send them to ``to``."""
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind],
        body=render_to_string(f"accounts/email/{kind}.txt", values),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"accounts/email/{kind}.html", values), "text/html")
    message.send()
