"""`python -m bench [NAME …]`: run the named benchmarks (all by default) and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import importlib

BENCHMARKS = (
    "updates",
    "members",
    "roster_import",
    "broadcast",
    "meeting_presses",
    "compliance",
    "forms_delivery",
    "forms_reminders",
    "forms_results",
    "dues",
    "dues_reminders",
    "dues_disclose",
    "dues_remit",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], default=list(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        asyncio.run(module.run(quick=args.quick))


if __name__ == "__main__":
    main()
