"""devtools/import_cycles.py, which CI runs before the tests: the repository has no import
cycle, counting imports inside functions, and the script does find one hidden there."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.import_cycles", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_repository_has_no_import_cycle():
    result = _run(ROOT)
    assert result.returncode == 0, result.stdout
    assert "no import cycle" in result.stdout


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    app = tmp_path / "billing"
    (app / "services").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "services" / "__init__.py").write_text("")
    (app / "services" / "refunds.py").write_text("from billing import tasks\n")
    (app / "tasks.py").write_text(
        "def submit_refund_task(refund_id):\n"
        "    from billing.services import refunds\n"
        "\n"
        "    return refunds\n"
    )
    (app / "models.py").write_text("import billing.services.refunds\n")  # no cycle: one way
    result = _run(tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "import cycle: billing.services.refunds <-> billing.tasks"
