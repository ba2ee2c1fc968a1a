"""``pimsim techniques`` options, kept apart from the commands so ``pimsim --help`` stays fast.

The command functions live in :mod:`pimsim.techniques.commands` and load on first use.
"""

from __future__ import annotations

from pathlib import Path

import argparse

from pimsim.argtypes import fraction_list, int_in, positive_int

non_negative_int = int_in(0)


def positive_float(text: str) -> float:
    """A number > 0 (a usage error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value:
        raise argparse.ArgumentTypeError(f"{value} is not > 0")
    return value


def _finetune_options(s) -> None:
    s.add_argument("--finetune-epochs", type=non_negative_int, default=None, metavar="N",
                   help="fine-tune N epochs after the technique, masks and flipped bits "
                   "fixed (default: the schedule's finetune key; 0: none; needs torch)")
    s.add_argument("--finetune-lr", type=positive_float, default=None, metavar="LR",
                   help="fine-tuning learning rate (Adam, cosine; default 0.001)")
    s.add_argument("--seed", type=non_negative_int, default=None,
                   help="fine-tuning seed (default 0)")

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
REAL_TRACES = tuple(str(ROOT / "traces" / n) for n in ("cnn_digits.npz", "resnet20_digits.npz"))
SHAPE_TRACES = tuple(str(ROOT / "traces" / n) for n in ("resnet20_cifar_shapes.npz",
                                                        "vgg16_shapes.npz"))


def run(args) -> int:
    from pimsim.techniques.commands import run as run_command

    return run_command(args)


def _common(s, out_help: str) -> None:
    s.add_argument("--limit", type=positive_int, default=None, metavar="N",
                   help="held-out digit images used to measure accuracy (default: all; "
                        "fewer is faster)")
    s.add_argument("--out", default=None, metavar="DIR", help=out_help)
    s.add_argument("--json", action="store_true",
                   help="print the JSON document (docs/results.md) instead of a table")
    s.add_argument("--quiet", "-q", action="store_true",
                   help="no progress or 'what runs' lines on stderr")


def add_parser(subparsers) -> None:
    """Add ``techniques {apply,compare,curves}`` to the ``pimsim`` parser."""
    p = subparsers.add_parser("techniques", help="sparsity techniques: ERA-BS, PIM-Prune, "
                              "CIM-granularity pruning",
                              description="Apply sparsity techniques to a trace's real weights "
                              "and activations and evaluate the changed workload "
                              "(docs/techniques.md).")
    p.set_defaults(func=run)
    sub = p.add_subparsers(dest="techniques_cmd", required=True, metavar="{apply,compare,curves}")
    s = sub.add_parser("apply", help="apply one schedule to a trace and evaluate it before and "
                       "after")
    s.add_argument("schedule", help="schedule YAML (configs/schedules/*.yaml)")
    s.add_argument("trace", help="trace .npz (real weights give accuracy; shape-only traces "
                   "get stand-in tensors)")
    s.add_argument("-c", "--config", default=str(CONFIGS / "era_bs.yaml"),
                   help="design point YAML (needs the support roles the technique counts; "
                        "default configs/era_bs.yaml)")
    _common(s, "folder for technique.json, technique.csv and technique.md")
    _finetune_options(s)
    s = sub.add_parser("compare", help="ISAAC, PIM-Prune, ERA-BS variants and CIM pruning side "
                       "by side on several traces (minutes)")
    s.add_argument("traces", nargs="*", default=list(REAL_TRACES + SHAPE_TRACES),
                   help="trace .npz files (default: cnn_digits, resnet20_digits, "
                        "resnet20_cifar_shapes, vgg16_shapes)")
    s.add_argument("--max-drop", type=float, default=0.01, metavar="FRACTION",
                   help="pruning rows: largest ratio with at most this accuracy drop (default "
                   "0.01 = 1%%-point; negative: keep the schedules' ratios)")
    _common(s, "folder for techniques_compare.json / .csv / .md")
    _finetune_options(s)
    s = sub.add_parser("curves", help="compression vs accuracy drop per CIM pruning granularity")
    s.add_argument("trace", nargs="?", default=REAL_TRACES[0],
                   help="trace .npz with weights (default traces/cnn_digits.npz)")
    s.add_argument("-c", "--config", default=str(CONFIGS / "pim_prune.yaml"),
                   help="design point YAML (default configs/pim_prune.yaml)")
    s.add_argument("--granularities", default="filter,channel,xbar_column,ou_block",
                   help="comma-separated pruning granularities (default: all four)")
    s.add_argument("--ratios", type=fraction_list, default="0,0.2,0.4,0.6,0.8,0.9",
                   help="pruning ratios in [0, 1), comma-separated")
    s.add_argument("--prune-first-last", action="store_true",
                   help="also prune the first and last MVM layers")
    _common(s, "folder for curves_NETWORK.json / .csv / .md / .png")
    _finetune_options(s)
