"""Entry point for ``python -m devtools.stripe_emulator`` (local Stripe emulator, dev/test only)."""

from devtools.stripe_emulator.cli import main

raise SystemExit(main())
