"""argparse types shared by the command-line modules: a bad value is a usage error (exit 2)
that names the option, never a traceback from deep inside."""

from __future__ import annotations

import argparse


def int_in(low: int, high: int | None = None):
    """An integer in [low, high] (no upper bound when ``high`` is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"{low}..{high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{value} is outside {bound}")
        return value

    return parse


positive_int = int_in(1)


def fraction_list(text: str) -> list[float]:
    """Comma-separated numbers in [0, 1), e.g. ``0,0.2,0.5``."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") \
            from None
    bad = [v for v in values if not 0.0 <= v < 1.0]
    if bad:
        raise argparse.ArgumentTypeError(f"{bad[0]} is outside [0, 1)")
    return values
