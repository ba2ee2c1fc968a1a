"""The accuracy table of ``pimsim run`` (a ``pimsim.functional.run`` record)."""

from __future__ import annotations

from pimsim.report.tables import Table


def accuracy_table(acc: dict, design: str = "design") -> Table:
    """Hardware accuracy beside software accuracy, with the sample count and spread."""
    if not acc.get("measured"):
        return Table(f"{design}: accuracy", ("metric", "value"),
                     (("accuracy", "not measured"),), notes=(acc.get("reason", ""),),
                     slug="accuracy")
    rows = (("hardware accuracy (crossbars, devices)", acc["hardware"]),
            ("hardware accuracy std over seeds", acc["hardware_std"]),
            ("software accuracy (digital, same quantized model)", acc["software"]),
            ("held-out images", acc["samples"]),
            ("seeds", len(acc["seeds"])),
            ("predictions equal to software", acc["agreement"]))
    return Table(f"{design}: accuracy on {acc['samples']} held-out images", ("metric", "value"),
                 rows, notes=(acc["note"], f"data: {acc['dataset']}"), slug="accuracy")
