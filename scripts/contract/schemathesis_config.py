"""Write the run's schemathesis.toml: the template, the identities file, and per operation.

An operation whose schema lists ``x-rules-beyond-schema`` (config/openapi.py) may refuse a
schema-valid request (422, 413, 415) for those documented rules (a reset link that does not exist, a
password too common, ``since`` after ``until``): for it, and only for it, 422 is an expected
answer to positive data. Every other check stays on.
Run: python scripts/contract/schemathesis_config.py SCHEMA_JSON AUTH_JSON OUTPUT_TOML
"""

import json
import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("schemathesis.toml")
# schemathesis' default for positive_data_acceptance, plus the statuses the rules name.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "413", "415", "422", "429", "5xx"]


def main(schema_path: str, auth_path: str, output: str) -> None:
    schema = json.loads(Path(schema_path).read_text())
    sections = [TEMPLATE.read_text().replace("@AUTH@", auth_path)]
    for methods in schema["paths"].values():
        for operation in methods.values():
            if operation.get("x-rules-beyond-schema"):
                sections.append(
                    "[[operations]]\n"
                    f'include-operation-id = "{operation["operationId"]}"\n'
                    f"checks.positive_data_acceptance.expected-statuses = {json.dumps(ACCEPTED)}\n"
                )
    Path(output).write_text("\n".join(sections))


if __name__ == "__main__":
    main(*sys.argv[1:4])
