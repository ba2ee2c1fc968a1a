"""``pimsim train`` / ``pimsim endurance`` options, apart from the commands so that
``pimsim --help`` does not load numba kernels and torch helpers.

The command functions live in :mod:`pimsim.training.commands` and load on first use.
"""

from __future__ import annotations

from pathlib import Path

from pimsim.argtypes import positive_int

DEFAULT_POLICIES = ("sgd", "no_endurance", "essence", "essence_aggressive", "sgs", "sgs_ars")
ROOT = Path(__file__).resolve().parents[2]


def train(args) -> int:
    from pimsim.training.commands import train_command

    return train_command(args)


def endurance(args) -> int:
    from pimsim.training.commands import endurance_command

    return endurance_command(args)


def add_train_arguments(sp, defaults: bool = False) -> None:
    """Options of ``pimsim train`` on an argparse (sub)parser; ``set_defaults(func=...)``
    is left to the CLI. ``defaults=True`` makes CONFIG and --model optional
    (configs/isaac.yaml, resnet20) for scripts/train_endurance.py."""
    sp.add_argument("config", nargs="?" if defaults else None,
                    default=str(ROOT / "configs" / "isaac.yaml") if defaults else None,
                    help="design point YAML (e.g. configs/isaac.yaml)")
    sp.add_argument("--model", required=not defaults, default="resnet20" if defaults else None,
                    choices=("cnn_digits", "resnet20"),
                    help="zoo model trained on the digits data set (default for scripts: resnet20)")
    sp.add_argument("--policy", default="essence",
                    help="update policy: " + ", ".join(DEFAULT_POLICIES))
    sp.add_argument("--epochs", type=positive_int, help="default: the zoo recipe's (30 / 12)")
    sp.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="torch device (default cpu; cuda when available)")
    sp.add_argument("--compare-policies", action="store_true",
                    help="train every policy and print one comparison table")
    sp.add_argument("--policies", metavar="P1,P2",
                    help="with --compare-policies: only these policies (comma-separated)")
    sp.add_argument("--out", metavar="DIR", help="records and tables (default results/train_MODEL)")
    sp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sp.add_argument("--jobs", type=positive_int, default=1, help="policies trained in parallel")
    sp.add_argument("--max-steps", type=positive_int, help="stop after N steps (quick checks)")
    sp.add_argument("--write-model", choices=("level", "row"),
                    help="level: a cell is written when its level changes; row: a change in a "
                         "row segment rewrites its used cells (default: the endurance "
                         "settings', else level)")
    sp.add_argument("--update-rule", choices=("masked", "lazy", "accumulate"),
                    help="how unselected structures' updates are held back (docs/training.md; "
                         "default: the endurance settings', else accumulate)")
    sp.add_argument("--endurance-config", metavar="YAML", help="default configs/endurance.yaml")
    sp.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")


def add_endurance_arguments(sp) -> None:
    """Options of ``pimsim endurance`` (tables from saved update records)."""
    sp.add_argument("config", help="design point YAML the records were trained on")
    sp.add_argument("records", nargs="+", help="update records (.npz) or directories of them")
    sp.add_argument("--out", metavar="DIR", help="folder for the tables and plots")
    sp.add_argument("--endurance-config", metavar="YAML",
                    help="endurance settings (default configs/endurance.yaml)")
    sp.add_argument("--no-plots", action="store_true", help="tables only, no PNG plots")
