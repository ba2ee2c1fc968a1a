"""pandas views of result dicts (the optional ``pandas`` extra): one row per result or layer."""

from __future__ import annotations

from pimsim.optional import PANDAS_HINT as INSTALL_HINT, require


def _pandas():
    return require("pandas", "DataFrames", INSTALL_HINT)


def _scalars(d: dict) -> dict:
    return {k: v for k, v in d.items() if not isinstance(v, (dict, list))}


def totals_frame(result: dict):
    """One row: design, network, fidelity and every scalar total (units in the names)."""
    pd = _pandas()
    row = {"design": result.get("design"), "network": result.get("network"),
           "fidelity": (result.get("fidelity") or {}).get("name", result.get("engine")),
           **_scalars(result.get("total") or {})}
    return pd.DataFrame([row])


def layers_frame(result: dict):
    """One row per layer, indexed by layer name, scalar columns (units in the names)."""
    pd = _pandas()
    from pimsim.report.views import layer_rows

    views = {r["layer"]: r for r in layer_rows(result)}
    rows = []
    for lay in result.get("layers") or []:
        v = views.get(lay["name"], {})
        rows.append({**_scalars(lay), "share_of_interval_pct": v.get("share_of_interval_pct"),
                     "utilization_pct": v.get("utilization_pct"), "stalls_ns": v.get("stalls_ns")})
    return pd.DataFrame(rows).set_index("name")


def compare_frame(results: list[dict]):
    pd = _pandas()
    return pd.concat([totals_frame(r) for r in results], ignore_index=True)
