"""Full in-memory training runs: every update policy on one model, then the endurance table.

    PYTHONPATH=. python scripts/train_endurance.py --model resnet20 --jobs 2 \
        --out results/endurance_resnet20

Same options as ``pimsim train CONFIG --compare-policies`` (pimsim.training.commands).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.training.cli_args import add_train_arguments  # noqa: E402
from pimsim.training.commands import train_command  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_train_arguments(p, defaults=True)
    p.set_defaults(jobs=2)
    p.add_argument("--single", action="store_true", help="only --policy, not all policies")
    args = p.parse_args(argv)
    args.compare_policies = args.compare_policies or not args.single
    return train_command(args)


if __name__ == "__main__":
    sys.exit(main())
