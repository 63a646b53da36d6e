"""Rules with one home stay there: money is integers and exact Decimals written by
`webinars.formatting` (no floats, no hand-made "/ 100" in the apps that hold money;
`events` has none, and its rate limits are rates per second, floats by nature)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONEY_APPS = ("webinars", "billing", "config")
MONEY_BY_HAND = re.compile(
    r"(?<![\w.])float\("  # a float (env.float for settings is not money)
    r"|(?<!/)/ ?100\b"  # minor units or basis points divided by hand (not // on integers)
    r"|:\.\d+f\}|:g\}"  # and printed by hand
)


def product_files() -> list[Path]:
    return [
        path
        for app in MONEY_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_product_code_formats_money_or_rates_by_hand():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in product_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if MONEY_BY_HAND.search(line)
    ]
    assert not offenders, "\n".join(offenders)
