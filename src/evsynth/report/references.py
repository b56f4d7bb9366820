"""The report's reference list, and the references a text cites.

:data:`REFERENCES` holds each reference under its citation key (``"Hedges
1981"``), the GRADE stage's merged in (:func:`evsynth.report.sof.merge_references`);
:func:`_cited` picks those the methods and the meta-analysis sentences cite, so
the page lists only references it uses. No links: the page stays offline.
"""

from __future__ import annotations

from collections.abc import Sequence

from evsynth.report import sof as grade_sof

__all__ = ["REFERENCES"]

#: Reference list: key, full reference (no links: the page stays offline).
REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "Begg & Mazumdar 1994",
        (
            "Begg CB, Mazumdar M. Operating characteristics of a rank correlation test "
            "for publication bias. Biometrics. 1994;50(4):1088-1101. "
            "doi:10.2307/2533446"
        ),
    ),
    (
        "Borenstein et al. 2009",
        (
            "Borenstein M, Hedges LV, Higgins JPT, Rothstein HR. Introduction to "
            "Meta-Analysis. Chichester: Wiley; 2009."
        ),
    ),
    (
        "CASP 2018",
        (
            "Critical Appraisal Skills Programme. CASP Qualitative Checklist. "
            "Oxford: CASP UK; 2018."
        ),
    ),
    (
        "Duval & Tweedie 2000",
        (
            "Duval S, Tweedie R. Trim and fill: a simple funnel-plot-based method of "
            "testing and adjusting for publication bias in meta-analysis. Biometrics. "
            "2000;56(2):455-463. doi:10.1111/j.0006-341X.2000.00455.x"
        ),
    ),
    (
        "Egger et al. 1997",
        (
            "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis "
            "detected by a simple, graphical test. BMJ. 1997;315(7109):629-634. "
            "doi:10.1136/bmj.315.7109.629"
        ),
    ),
    (
        "Hedges 1981",
        (
            "Hedges LV. Distribution theory for Glass's estimator of effect size and "
            "related estimators. Journal of Educational Statistics. 1981;6(2):107-128. "
            "doi:10.3102/10769986006002107"
        ),
    ),
    (
        "Knapp & Hartung 2003",
        (
            "Knapp G, Hartung J. Improved tests for a random effects meta-regression "
            "with a single covariate. Statistics in Medicine. 2003;22(17):2693-2710. "
            "doi:10.1002/sim.1482"
        ),
    ),
    (
        "Lewin et al. 2018",
        (
            "Lewin S, Bohren M, Rashidian A, et al. Applying GRADE-CERQual to "
            "qualitative evidence synthesis findings - paper 2: how to make an overall "
            "CERQual assessment of confidence and create a Summary of Qualitative "
            "Findings table. Implementation Science. 2018;13(Suppl 1):10. "
            "doi:10.1186/s13012-017-0689-2"
        ),
    ),
    (
        "Page et al. 2021",
        (
            "Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an "
            "updated guideline for reporting systematic reviews. BMJ. 2021;372:n71. "
            "doi:10.1136/bmj.n71"
        ),
    ),
    (
        "Riley et al. 2011",
        (
            "Riley RD, Higgins JPT, Deeks JJ. Interpretation of random effects "
            "meta-analyses. BMJ. 2011;342:d549. doi:10.1136/bmj.d549"
        ),
    ),
    (
        "Rosenthal 1979",
        (
            "Rosenthal R. The file drawer problem and tolerance for null results. "
            "Psychological Bulletin. 1979;86(3):638-641. doi:10.1037/0033-2909.86.3.638"
        ),
    ),
    (
        "Sterne et al. 2016",
        (
            "Sterne JA, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for assessing "
            "risk of bias in non-randomised studies of interventions. BMJ. "
            "2016;355:i4919. doi:10.1136/bmj.i4919"
        ),
    ),
    (
        "Sterne et al. 2019",
        (
            "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for "
            "assessing risk of bias in randomised trials. BMJ. 2019;366:l4898. "
            "doi:10.1136/bmj.l4898"
        ),
    ),
    (
        "Viechtbauer 2010",
        (
            "Viechtbauer W. Conducting meta-analyses in R with the metafor package. "
            "Journal of Statistical Software. 2010;36(3):1-48. "
            "doi:10.18637/jss.v036.i03"
        ),
    ),
    (
        "Viechtbauer & Cheung 2010",
        (
            "Viechtbauer W, Cheung MWL. Outlier and influence diagnostics for "
            "meta-analysis. Research Synthesis Methods. 2010;1(2):112-125. "
            "doi:10.1002/jrsm.11"
        ),
    ),
)

REFERENCES = grade_sof.merge_references(REFERENCES, grade_sof.REFERENCES)


def _cited(texts: Sequence[str]) -> list[str]:
    """List the references the texts cite, as 'Hedges 1981' or 'Hedges (1981)'."""
    joined = " ".join(texts)
    out = []
    for key, reference in REFERENCES:
        who, year = key.rsplit(" ", 1)
        if key in joined or f"{who} ({year})" in joined:
            out.append(reference)
    return out
