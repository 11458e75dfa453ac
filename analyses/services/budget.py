"""Per-user monthly budgets: reserve the worst case at admission, settle the actual at the end.

Every change to a user's ``UsageMonth`` row holds its row lock (a conditional ``UPDATE`` or
``select_for_update``), so N concurrent submissions are serialised on that one row and admit only
what fits (the race that lets
check-then-spend budgets be overrun: LiteLLM issues 34732 and 40095).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, F, Q, Value
from django.utils import timezone

from analyses.models import Analysis, UsageMonth
from core.errors import TooManyRequests

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens for one model."""

    input: Decimal
    cached_input: Decimal
    output: Decimal

    @classmethod
    def for_model(cls, model: str) -> "Prices":
        """The configured prices of ``model`` (``model_prices``); an unpriced model costs 0."""
        from prompts.configuration import config_get

        row = (config_get("model_prices") or {}).get(model) or {}
        return cls(
            input=Decimal(str(row.get("input", "0"))),
            cached_input=Decimal(str(row.get("cached_input", row.get("input", "0")))),
            output=Decimal(str(row.get("output", "0"))),
        )

    def cost(self, *, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> Decimal:
        """Decimal USD; cached input tokens are part of input tokens, billed at their own price."""
        uncached = max(0, input_tokens - cached_input_tokens)
        total = (
            uncached * self.input
            + cached_input_tokens * self.cached_input
            + output_tokens * self.output
        )
        return (total / MILLION).quantize(Decimal("0.00000001"))


def month_start(moment: dt.datetime | None = None) -> dt.date:
    """The first day of the (UTC) month of ``moment``: budgets reset then."""
    moment = timezone.localtime(moment or timezone.now(), dt.UTC)
    return moment.date().replace(day=1)


def next_month_start(month: dt.date) -> dt.datetime:
    first = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)


def _limits() -> tuple[int | None, Decimal | None]:
    from prompts.configuration import config_get

    tokens = config_get("budget_monthly_tokens")
    cost = config_get("budget_monthly_cost_usd")
    return (
        int(tokens) if tokens is not None else None,
        Decimal(str(cost)) if cost is not None else None,
    )


def _locked_row(*, user_id, month: dt.date) -> UsageMonth:
    # get_or_create first (its own savepoint absorbs a concurrent insert), then lock the row.
    UsageMonth.objects.get_or_create(user_id=user_id, month=month)
    return UsageMonth.objects.select_for_update(no_key=True).get(user_id=user_id, month=month)


def _fits(*, tokens: int, cost: Decimal, token_limit: int | None, cost_limit: Decimal | None) -> Q:
    """The row still has room for ``tokens`` and ``cost``: a condition the UPDATE checks itself."""
    room = Q()
    if token_limit is not None:
        room &= Q(reserved_tokens__lte=Value(token_limit - tokens) - F("used_tokens"))
    if cost_limit is not None:
        room &= Q(
            reserved_cost_usd__lte=Value(cost_limit - cost, output_field=DecimalField())
            - F("used_cost_usd")
        )
    return room


def budget_reserve(*, user, tokens: int, cost: Decimal, month: dt.date | None = None) -> dt.date:
    """Reserve ``tokens`` and ``cost`` for one analysis this month, or raise 429 ``budget_exceeded``.

    Call inside the transaction that creates the analysis, as late as possible: the row lock the
    reservation takes is held until it commits. The usual case is one conditional ``UPDATE``
    (check and reserve in one statement, so concurrent submissions cannot both slip under);
    a month without a row yet, or a refusal, is decided again under ``select_for_update``.
    """
    assert transaction.get_connection().in_atomic_block, "reserve inside the analysis's transaction"
    month = month or month_start()
    token_limit, cost_limit = _limits()
    room = _fits(tokens=tokens, cost=cost, token_limit=token_limit, cost_limit=cost_limit)
    reserved = UsageMonth.objects.filter(room, user_id=user.pk, month=month).update(
        reserved_tokens=F("reserved_tokens") + tokens,
        reserved_cost_usd=F("reserved_cost_usd") + cost,
        updated_at=timezone.now(),
    )
    if reserved:
        return month
    row = _locked_row(user_id=user.pk, month=month)
    over_tokens = token_limit is not None and (
        row.used_tokens + row.reserved_tokens + tokens > token_limit
    )
    over_cost = cost_limit is not None and (
        row.used_cost_usd + row.reserved_cost_usd + cost > cost_limit
    )
    if over_tokens or over_cost:
        resets_at = next_month_start(month)
        raise TooManyRequests(
            "This request could exceed your monthly LLM budget.",
            code="budget_exceeded",
            retry_after=max(1, int((resets_at - timezone.now()).total_seconds())),
            details={
                "budget": {
                    "tokens": token_limit,
                    "cost_usd": str(cost_limit) if cost_limit is not None else None,
                },
                "used": {"tokens": row.used_tokens, "cost_usd": str(row.used_cost_usd)},
                "reserved": {
                    "tokens": row.reserved_tokens,
                    "cost_usd": str(row.reserved_cost_usd),
                },
                "requested": {"tokens": tokens, "cost_usd": str(cost)},
                "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
            },
        )
    row.reserved_tokens += tokens
    row.reserved_cost_usd += cost
    row.save(update_fields=["reserved_tokens", "reserved_cost_usd", "updated_at"])
    return month


def budget_settle(*, analysis: Analysis, tokens: int, cost: Decimal, release: bool) -> None:
    """Charge what one attempt used, and release the analysis's reservation if ``release``.

    Callers guarantee once per attempt and once per reservation: they hold the analysis row's
    transition (a conditional update on its status and lease), so no worker charges twice.
    """
    if not release and not tokens and not cost:
        return
    if release and analysis.budget_month is None and not tokens and not cost:
        return
    month = analysis.budget_month or month_start()
    row = _locked_row(user_id=analysis.owner_id, month=month)
    if release:
        row.reserved_tokens = max(0, row.reserved_tokens - analysis.reserved_tokens)
        row.reserved_cost_usd = max(Decimal(0), row.reserved_cost_usd - analysis.reserved_cost_usd)
        analysis.reserved_tokens = 0
        analysis.reserved_cost_usd = Decimal(0)
        analysis.budget_month = None
    row.used_tokens += tokens
    row.used_cost_usd += cost
    row.save()
