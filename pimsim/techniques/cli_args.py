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


def add_parser(subparsers) -> None:
    """Add ``techniques {apply,compare,curves}`` to the ``pimsim`` parser."""
    p = subparsers.add_parser("techniques", help="sparsity techniques: ERA-BS, PIM-Prune, "
                              "CIM-granularity pruning")
    p.set_defaults(func=run)
    sub = p.add_subparsers(dest="techniques_cmd", required=True)
    s = sub.add_parser("apply", help="apply one schedule to a trace and evaluate it")
    s.add_argument("schedule", help="schedule YAML (configs/schedules/*.yaml)")
    s.add_argument("trace", help="trace .npz")
    s.add_argument("-c", "--config", default=str(CONFIGS / "era_bs.yaml"),
                   help="design point YAML (needs the support roles the technique counts)")
    s.add_argument("--limit", type=positive_int, default=None,
                   help="held-out images used (default all)")
    s.add_argument("--out", default=None, help="folder for technique.json")
    _finetune_options(s)
    s = sub.add_parser("compare", help="ISAAC, PIM-Prune, ERA-BS variants, CIM pruning")
    s.add_argument("traces", nargs="*", default=list(REAL_TRACES + SHAPE_TRACES))
    s.add_argument("--limit", type=positive_int, default=None)
    s.add_argument("--max-drop", type=float, default=0.01,
                   help="pruning rows: largest ratio with at most this accuracy drop "
                   "(negative: keep the schedules' ratios)")
    s.add_argument("--out", default=None, help="folder for CSV / JSON / Markdown")
    _finetune_options(s)
    s = sub.add_parser("curves", help="compression vs accuracy per CIM granularity")
    s.add_argument("trace", nargs="?", default=REAL_TRACES[0])
    s.add_argument("-c", "--config", default=str(CONFIGS / "pim_prune.yaml"))
    s.add_argument("--granularities", default="filter,channel,xbar_column,ou_block")
    s.add_argument("--ratios", type=fraction_list, default="0,0.2,0.4,0.6,0.8,0.9",
                   help="pruning ratios in [0, 1), comma-separated")
    s.add_argument("--prune-first-last", action="store_true",
                   help="also prune the first and last MVM layers")
    s.add_argument("--limit", type=positive_int, default=None)
    s.add_argument("--out", default=None, help="folder for CSV / JSON / Markdown / PNG")
    _finetune_options(s)
