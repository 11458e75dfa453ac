"""Back office for people and credentials; every change goes through the services (and the audit)."""

from accounts.admin import credentials, people  # noqa: F401  (registers the ModelAdmins)
