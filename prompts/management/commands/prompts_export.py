import json

from django.core.management.base import BaseCommand

from prompts.services.transfer import prompts_export_document


class Command(BaseCommand):
    help = (
        "Print prompts, their versions and labels as a stable JSON document "
        "(prompts-as-code; `prompts_import` reads it back)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--slug", action="append", default=[], help="Only this prompt (repeatable)."
        )

    def handle(self, *args, slug: list[str], **options) -> None:
        document = prompts_export_document(slugs=slug)
        missing = sorted(set(slug) - {entry["slug"] for entry in document["prompts"]})
        if missing:
            self.stderr.write(f"No such prompt: {', '.join(missing)}")
        # Sorted keys and a fixed indent: the same prompts always print the same bytes (git diffs).
        self.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
