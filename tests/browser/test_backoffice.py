"""The back office in a real browser, on the production settings, as an admin and as staff.

Every registered model (discovered from the admin registry: later apps are walked for free) gets
its list and first change page loaded without a server error, a missing asset or a console
error; each destructive action is run once through its confirmation page; the API docs load,
authorize with a token and run "Try it out" on GET /auth/me.
"""

import pytest
from django.contrib import admin

from accounts.role_groups import STAFF_PERMISSIONS

pytestmark = pytest.mark.browser


def changelist_paths() -> list[str]:
    return sorted(
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    )


def walk(page, path: str) -> None:
    """The list, then the change page of its first row (when it has one)."""
    page.visit(path, path.strip("/"))
    first = page.page.locator(f"#result_list tbody a[href^='{path}'][href$='/change/']").first
    if first.count():
        page.visit(first.get_attribute("href"), path.strip("/") + "-change")


def run_action(page, path: str, pk: str, action: str, message: str) -> None:
    """Select one row, run the action, meet the confirmation page, confirm, read the message."""
    page.visit(path, f"{action}-list")
    page.page.check(f"input.action-select[value='{pk}']")
    page.page.select_option("select[name=action]", action)
    page.page.click("button[name=index]")
    page.page.wait_for_selector("[data-testid=action-confirmation]")
    page.check(f"{action}-confirm")
    page.page.click("[data-testid=action-confirmation] button[type=submit]")
    page.page.wait_for_selector(f"text={message}")
    page.check(f"{action}-done")


def test_admin_walks_every_registered_model(open_page, seed):
    page = open_page("admin")
    page.sign_in(seed.emails["admin"], seed.password)
    for card in ("open_audit_events", "active_users", "usable_api_keys"):
        assert page.page.locator(f"[data-card={card}]").count() == 1

    for path in changelist_paths():
        walk(page, path)


def test_staff_walks_what_the_sidebar_offers(open_page, seed):
    page = open_page("staff")
    page.sign_in(seed.emails["staff"], seed.password)

    offered = {
        href
        for href in page.page.locator("#nav-sidebar-apps a[href^='/admin/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        if href != "/admin/"
    }
    # What the Staff group grants is always offered; the admin-only pages never are. (Other
    # apps may grant staff more, by group or by role: those pages are walked too.)
    granted = {
        f"/admin/{name.split('.')[0]}/{name.split('_', 1)[1]}/"
        for name in STAFF_PERMISSIONS
        if ".view_" in name
    }
    admin_only = {
        "/admin/auth/group/",
        "/admin/sessions/session/",
        "/admin/django_tasks_database/dbtaskresult/",
    }
    assert granted <= offered
    assert not admin_only & offered
    for path in sorted(offered):
        walk(page, path)


def test_staff_reviews_an_event_and_revokes_a_key(open_page, seed):
    page = open_page("staff")
    page.sign_in(seed.emails["staff"], seed.password)

    page.visit("/admin/audits/auditevent/?status__exact=open", "review-list")
    page.page.locator("#result_list tbody a[href^='/admin/audits/auditevent/']").first.click()
    page.page.select_option("select[name=status]", "acknowledged")
    page.page.fill("textarea[name=review_note]", "seen in the browser suite")
    page.page.click("button[name=_save]")
    page.page.wait_for_selector("text=was changed successfully")
    page.check("review-saved")

    run_action(page, "/admin/accounts/apikey/", seed.api_key_id, "revoke_keys", "Revoked 1 key(s).")


def test_admin_runs_each_destructive_action_once(open_page, seed):
    page = open_page("admin")
    page.sign_in(seed.emails["admin"], seed.password)

    run_action(
        page,
        "/admin/accounts/refreshtoken/",
        seed.refresh_token_id,
        "revoke_family",
        "Revoked 1 session(s).",
    )
    run_action(
        page, "/admin/accounts/user/", seed.ids["victim"], "deactivate_users", "Deactivated 1 user"
    )
    page.visit("/admin/audits/auditevent/?action=auth.api_key.created", "redact-list")
    event_id = page.page.locator("input.action-select").first.get_attribute("value")
    run_action(page, "/admin/audits/auditevent/", event_id, "redact_events", "Redacted 1 event(s).")

    # Erasure: the person with a key and a session is deleted from their page.
    page.visit(f"/admin/accounts/user/{seed.ids['doomed']}/delete/", "erase-confirm")
    page.page.click("form:has(input[name=post]) button[type=submit]")
    page.page.wait_for_selector("text=was deleted successfully")
    page.check("erase-done")


def test_api_docs_authorize_and_try_get_me(open_page, seed):
    page = open_page("docs")
    page.visit("/api/v1/docs", "swagger")
    page.page.click("button.authorize")
    bearer = page.page.locator(".auth-container", has_text="Bearer").first
    bearer.locator("input").fill(seed.access_token)
    bearer.locator("button.authorize").click()
    page.page.click("button.btn-done")

    operation = page.page.locator(".opblock-get", has_text="/api/v1/auth/me").first
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table").first
    live.locator(".response-col_status", has_text="200").first.wait_for()
    body = live.locator(".highlight-code").first.inner_text()
    assert f'"email": "{seed.emails["person"]}"' in body
    assert '"role": "user"' in body
    page.check("swagger-try-me")


def test_sign_in_refusal_then_sign_in_and_out(open_page, seed):
    page = open_page("sign-in")
    page.visit("/admin/login/", "login")
    page.page.fill("input[name=username]", seed.emails["staff"])
    page.page.fill("input[name=password]", "not-the-password")
    page.page.click("#login-form button[type=submit]")
    page.page.wait_for_selector("text=E-mail or password is incorrect.")
    page.check("login-refused")

    page.sign_in(seed.emails["staff"], seed.password)
    # The theme's account menu posts this form; submitting it is what its "Log out" does.
    page.page.evaluate("document.getElementById('logout-form').submit()")
    page.page.wait_for_url("**/admin/logout/")
    page.check("logged-out")
    page.page.goto(page.base_url + "/admin/", wait_until="networkidle")
    assert "/admin/login/" in page.page.url
    page.check("after-logout")
