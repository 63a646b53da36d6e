"""Fuzz the API with a tool we did not write: schemathesis runs every phase (examples from
the schema, boundary coverage, random fuzzing, stateful sequences that follow created
webinars) over /api/schema/ against a live server, as a signed-in organiser, and fails on
any finding: a 5xx, a status code, content type, header or body the schema does not
document, or schema-invalid input that is accepted."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ensure_resource_availability",
    "use_after_free",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
    "missing_required_header",
]
# Bounded for CI (about 30 s on 2 cores); the fixed seed makes a red run reproducible.
# Explore further with e.g. SCHEMATHESIS_SEED=7 SCHEMATHESIS_MAX_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261126"))


def test_schemathesis_finds_nothing(live_server, organiser, catalogue, settings, tmp_path):
    # Throttling is tested elsewhere; here it would only cut the run short with 429s.
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"anon": None, "anon_quote": None, "user": None}
    }
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "run",
        f"{live_server.url}/api/schema/",
        "--auth",
        "alice@acme.example:correct-horse-battery",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "5 selected / 5 total" in report, report
    assert "failed" not in report.split("SUMMARY")[-1], report
