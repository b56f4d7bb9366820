"""Study weights for the risk-of-bias summary plot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def study_weights(effects: str | Path | None) -> dict[str, float] | None:
    """Return each study's participants (largest n_t + n_c of its effect rows).

    robvis weights its summary plot by the studies' weights in the analysis;
    across several analyses the number of participants is the common measure
    of how much a study contributes. None when there is no effects table.
    """
    if effects is None or not Path(effects).is_file():
        return None
    table = pd.read_csv(effects)
    if not {"study_id", "n_t", "n_c"} <= set(table.columns):
        return None
    total = pd.to_numeric(table["n_t"], errors="coerce") + pd.to_numeric(
        table["n_c"], errors="coerce"
    )
    sizes = total.groupby(table["study_id"]).max().dropna()
    return {str(k): float(v) for k, v in sizes.items() if v > 0}
