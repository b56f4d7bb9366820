"""Study weights for the risk-of-bias summary plot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evsynth.io import read_csv_text


def study_weights(studies: str | Path | None) -> dict[str, float] | None:
    """Return each study's participants (``n_total`` of its main row in studies.csv).

    robvis weights its summary plot by how much each study contributes; across
    several analyses the number of participants is the common measure. None
    when studies.csv is missing or gives no ``n_total``.
    """
    if studies is None or not Path(studies).is_file():
        return None
    table = read_csv_text(studies, "a header line: study_id, report_id, role, ...")
    if not {"study_id", "n_total"} <= set(table.columns):
        return None
    sizes = pd.to_numeric(table["n_total"], errors="coerce")
    weights = {
        str(sid): float(n)
        for sid, n in zip(table["study_id"], sizes, strict=True)
        if pd.notna(n) and n > 0
    }
    return weights or None
