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

from pimsim.training.commands import DEFAULT_POLICIES, train_command  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="?", default="configs/isaac.yaml")
    p.add_argument("--model", default="resnet20", choices=("cnn_digits", "resnet20"))
    p.add_argument("--policy", default="sgd", choices=DEFAULT_POLICIES)
    p.add_argument("--epochs", type=int)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2, help="policies trained in parallel")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--write-model", choices=("level", "row"))
    p.add_argument("--update-rule", choices=("masked", "lazy", "accumulate"))
    p.add_argument("--endurance-config")
    p.add_argument("--single", action="store_true", help="only --policy, not all policies")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--out")
    args = p.parse_args(argv)
    args.compare_policies = not args.single
    return train_command(args)


if __name__ == "__main__":
    sys.exit(main())
