import random
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from audits import chain
from audits.models import ActorType, AuditEvent, Source
from audits.services import chain_head_locked

ACTIONS = [
    "prompt.created",
    "prompt.version.created",
    "prompt.label.moved",
    "analysis.submitted",
    "analysis.completed",
    "analysis.failed",
    "file.uploaded",
    "file.deleted",
    "auth.login.succeeded",
    "auth.login.failed",
    "user.updated",
    "invoice.paid",
]
ENTITY_TYPES = ["prompt", "analysis", "file", "user", "invoice"]


class Command(BaseCommand):
    help = "Append N realistic, correctly chained audit events (for benchmarks and demos)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--actors", type=int, default=50, help="distinct actor user ids")
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, count: int, actors: int, batch: int, **options) -> None:
        rng = random.Random(42)
        actor_ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(actors)]
        start = timezone.now() - timedelta(days=30)
        step = timedelta(days=30) / max(count, 1)
        written = 0
        while written < count:
            size = min(batch, count - written)
            with transaction.atomic():
                head = chain_head_locked()
                previous, rows = head.hmac, []
                for offset in range(size):
                    sequence = head.sequence + offset + 1
                    actor = rng.choice(actor_ids)
                    details = {"seeded": True, "n": sequence, "amount": rng.randint(1, 10_000)}
                    event = AuditEvent(
                        sequence=sequence,
                        occurred_at=start + step * (written + offset),
                        action=rng.choice(ACTIONS),
                        entity_type=rng.choice(ENTITY_TYPES),
                        entity_id=str(rng.randint(1, 100_000)),
                        actor_type=ActorType.USER,
                        actor_user_id=actor,
                        actor_label=f"seed-{actor[:8]}@example.com",
                        request_id=uuid.uuid4().hex,
                        ip="127.0.0.1",
                        user_agent="seed_audits",
                        source=Source.COMMAND,
                        details=details,
                        details_digest=chain.details_digest(details),
                    )
                    event.hmac = previous = chain.seal(previous_hmac=previous, event=event)
                    rows.append(event)
                AuditEvent.objects.bulk_create(rows)
                head.sequence, head.hmac = rows[-1].sequence, rows[-1].hmac
                head.save(update_fields=["sequence", "hmac"])
            written += size
            if written % 100_000 < size:
                self.stdout.write(f"{written}/{count}")
        # Fresh planner statistics: without them PostgreSQL guesses a few hundred rows per action
        # and picks a bitmap scan of every match over the (action, sequence) index (~1000x slower).
        # VACUUM also sets the visibility map, without which an "index-only" scan still reads the
        # heap for every row (page 1,000 of a filter: 49 instead of 300 req/s). VACUUM cannot run
        # inside a transaction (tests, or a caller's atomic block): there ANALYZE alone runs.
        vacuum = connection.vendor == "postgresql" and connection.get_autocommit()
        with connection.cursor() as cursor:
            cursor.execute(f"{'VACUUM ' if vacuum else ''}ANALYZE {AuditEvent._meta.db_table}")
        self.stdout.write(self.style.SUCCESS(f"seeded {count} audit events"))
