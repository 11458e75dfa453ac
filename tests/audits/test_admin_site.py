"""The back office for the trail: read-only lists with filters and search, details on the detail
page, review fields editable (and audited), redaction as an admin-only action, no add, no delete."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from audits.chain import chain_verify
from audits.models import AuditCheckpoint, AuditEvent
from audits.services import audit_event_record
from tests.audits.helpers import record_as
from tests.support.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audits/auditevent/"


def change_url(event: AuditEvent) -> str:
    return f"{CHANGELIST}{event.pk}/change/"


@pytest.fixture
def staff_client():
    """A staff member granted view and change on events (but not a superuser)."""
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="audits",
            codename__in=["view_auditevent", "change_auditevent"],
        )
    )
    client = Client()
    client.force_login(staff)
    return client, staff


@pytest.fixture
def events():
    ann = UserFactory(email="ann@example.com")
    return [
        record_as(ann, "prompt.created", entity_type="prompt", entity_id="p1"),
        record_as(ann, "file.uploaded", entity_type="file", entity_id="f-77"),
        audit_event_record(action="sessions.expired_cleared", entity_type="session"),
    ]


def offered_actions(changelist_response) -> list[str]:
    form = changelist_response.context["action_form"]  # None when no action is offered at all
    return [name for name, _ in form.fields["action"].choices] if form else []


def listed(client, query: dict) -> list[str]:
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return [event.action for event in response.context["cl"].result_list]


def test_the_list_is_newest_first(admin_client, events):
    assert listed(admin_client, {}) == [
        "sessions.expired_cleared",
        "file.uploaded",
        "prompt.created",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "f-77"}, ["file.uploaded"]),
        ({"q": "ann@"}, ["file.uploaded", "prompt.created"]),
        ({"q": "prompt.created"}, ["prompt.created"]),
        ({"entity_type__exact": "file"}, ["file.uploaded"]),
        ({"actor_type__exact": "system"}, ["sessions.expired_cleared"]),
        ({"source__exact": "api"}, ["file.uploaded", "prompt.created"]),
        ({"status__exact": "resolved"}, []),
    ],
)
def test_filters_and_search(admin_client, events, query, expected):
    assert listed(admin_client, query) == expected


def test_search_finds_a_request_id(admin_client, events):
    assert listed(admin_client, {"q": events[1].request_id}) == ["file.uploaded"]


def test_the_detail_page_shows_the_details(admin_client, user):
    event = record_as(user, "invoice.refunded", details={"reason": "<b>duplicate</b>", "n": 2})

    response = admin_client.get(change_url(event))

    assert response.status_code == 200
    page = response.content.decode()
    assert "invoice.refunded" in page and user.email in page
    assert "&quot;reason&quot;: &quot;&lt;b&gt;duplicate&lt;/b&gt;&quot;" in page  # escaped
    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == {"status", "review_note"}


def test_a_review_in_the_admin_is_audited_as_admin(admin_client, admin, user):
    event = record_as(user, "invoice.refunded")
    hmac_before = event.hmac

    response = admin_client.post(
        change_url(event),
        {"status": "resolved", "review_note": "checked with finance", "action": "x.forged"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    event.refresh_from_db()
    assert (event.status, event.review_note) == ("resolved", "checked with finance")
    assert event.reviewed_by_id == str(admin.pk) and event.reviewed_at
    assert event.action == "invoice.refunded" and event.hmac == hmac_before  # read-only held
    [review] = AuditEvent.objects.filter(action="audit.event.reviewed")
    assert review.source == "admin"
    assert (review.actor_user_id, review.actor_label) == (str(admin.pk), admin.email)
    assert review.request_id == response["X-Request-ID"]
    assert review.entity_id == str(event.pk)
    assert review.details == {
        "status": {"before": "open", "after": "resolved"},
        "review_note": {"before": "", "after": "checked with finance"},
    }
    assert chain_verify().ok


def test_saving_the_form_unchanged_records_nothing(admin_client, user):
    event = record_as(user)

    response = admin_client.post(change_url(event), {"status": "open", "review_note": ""})

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="audit.event.reviewed").exists()


def test_there_is_no_add_and_no_delete(admin_client, events):
    event = events[0]

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = admin_client.get(CHANGELIST)
    actions = offered_actions(changelist)
    assert "delete_selected" not in actions and "redact_events" in actions
    assert changelist.context["has_add_permission"] is False
    bulk_delete = admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes"},
    )
    assert bulk_delete.status_code == 302  # back to the list: the unknown action did nothing
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admins_redact_with_the_action_and_the_chain_holds(admin_client, admin, user):
    first = record_as(user, details={"email": "private@example.com"})
    second = record_as(user, details={"phone": "+351 900"})
    keep = record_as(user, details={"n": 1})

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "redact_events",
            "_selected_action": [str(first.pk), str(second.pk)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    for event in (first, second):
        event.refresh_from_db()
        assert event.details == {} and event.redacted_by_id == str(admin.pk)
    keep.refresh_from_db()
    assert keep.details == {"n": 1} and keep.redacted_at is None
    redactions = AuditEvent.objects.filter(action="audit.event.redacted")
    assert {r.entity_id for r in redactions} == {str(first.pk), str(second.pk)}
    assert {r.source for r in redactions} == {"admin"}
    assert {r.actor_user_id for r in redactions} == {str(admin.pk)}
    report = chain_verify()
    assert report.ok, report.reason


def test_staff_can_review_but_not_redact(staff_client, user):
    client, staff = staff_client
    event = record_as(user, details={"email": "private@example.com"})

    changelist = client.get(CHANGELIST)
    actions = offered_actions(changelist)
    client.post(
        CHANGELIST,
        {"action": "redact_events", "_selected_action": [str(event.pk)], "post": "yes"},
    )
    review = client.post(change_url(event), {"status": "acknowledged", "review_note": ""})

    assert "redact_events" not in actions
    event.refresh_from_db()
    assert event.redacted_at is None and event.details == {"email": "private@example.com"}
    assert review.status_code == 302
    assert event.status == "acknowledged" and event.reviewed_by_id == str(staff.pk)
    assert not AuditEvent.objects.filter(action="audit.event.redacted").exists()


def test_checkpoints_are_read_only(admin_client):
    checkpoint = AuditCheckpoint.objects.create(
        sequence=3, hmac="a" * 64, pruned_count=3, signature="b" * 64
    )

    detail = admin_client.get(f"/admin/audits/auditcheckpoint/{checkpoint.pk}/change/")
    edit = admin_client.post(
        f"/admin/audits/auditcheckpoint/{checkpoint.pk}/change/", {"pruned_count": 1}
    )

    assert detail.status_code == 200
    assert edit.status_code == 403
    assert admin_client.get("/admin/audits/auditcheckpoint/add/").status_code == 403
    checkpoint.refresh_from_db()
    assert checkpoint.pruned_count == 3
