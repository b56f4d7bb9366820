"""Certainty of one analysis: the proposals, the team's judgements, the level.

Each domain's final rating is the team's judgement where ``grade.csv`` has one,
else the proposal. Certainty starts at the starting level (high or low), moves
down one level per ``serious`` and two per ``very_serious``, up by the upgrade
judgements, and stays between very low and high. A rating is *provisional*
while a domain only the team can judge (indirectness; large effect and
dose-response for evidence that starts low) has no judgement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from evsynth.errors import InputError
from evsynth.grade.judgements import Judgement
from evsynth.grade.rules import LEVELS, UPGRADE_DOMAINS, Proposal

__all__ = ["Certainty", "DomainRating", "rate", "symbols"]

#: Filled and empty circles of the GRADE symbols.
FILLED, EMPTY = "\u2295", "\u25ef"


def symbols(level: int) -> str:
    """Return the GRADE symbols of a level (1 very low ... 4 high): ⊕⊕◯◯."""
    return FILLED * level + EMPTY * (4 - level)


@dataclass
class DomainRating:
    """One domain of one analysis: proposal, judgement, and what counts.

    Parameters
    ----------
    domain : str
        The domain.
    proposal : Proposal
        What the data suggest.
    judgement : Judgement, optional
        The team's rating, if any.
    """

    domain: str
    proposal: Proposal
    judgement: Judgement | None = None

    @property
    def rating(self) -> str:
        """The rating that counts: the judgement's, else the proposal's."""
        return self.judgement.judgement if self.judgement else self.proposal.rating

    @property
    def change(self) -> int:
        """Levels the rating that counts moves certainty."""
        if self.domain == "start":
            return 0
        return self.judgement.change if self.judgement else self.proposal.change

    @property
    def overridden(self) -> bool:
        """Whether the team's judgement differs from a rating the data proposed.

        A judgement of a domain only the team can judge (proposal ``not_judged``
        or ``not_applicable``) fills it in; it overrides nothing.
        """
        return (
            self.judgement is not None
            and self.proposal.rating not in ("not_judged", "not_applicable")
            and self.judgement.judgement != self.proposal.rating
        )

    @property
    def pending(self) -> bool:
        """Whether only the team can judge this domain and it has not yet."""
        return self.judgement is None and self.proposal.rating == "not_judged"

    def _detail(self) -> str:
        """Return the proposal's footnote without its domain name and final stop."""
        name = self.domain.replace("_", " ").capitalize()
        return self.proposal.footnote.removeprefix(f"{name}: ").rstrip(".")

    def footnote(self) -> str:
        """Return what the summary of findings says of this domain ("" if nothing).

        The footnote says who decided: a rating the team gave reads "Imprecision:
        very serious (review team: REASON)", with "; proposed from the data:
        serious (WHY)" where it overrides the proposal; a proposal the team has
        not judged reads "Imprecision: serious (proposed from the data: WHY)".
        The starting level (from the designs) and a domain still waiting for
        the team ("not yet judged") keep the proposal's own words.
        """
        name = self.domain.replace("_", " ").capitalize()
        if self.judgement is None:
            if (
                not self.proposal.footnote
                or self.domain == "start"
                or self.proposal.rating in ("not_judged", "not_applicable")
            ):
                return self.proposal.footnote
            rating = self.proposal.rating.replace("_", " ")
            return f"{name}: {rating} (proposed from the data: {self._detail()})."
        said = self.judgement.judgement.replace("_", " ")
        text = f"{name}: {said} (review team: {self.judgement.reason})"
        if self.overridden:
            text += (
                f"; proposed from the data: {self.proposal.rating.replace('_', ' ')}"
            )
            if self.proposal.footnote:
                text += f" ({self._detail()})"
        elif self.change == 0:
            return text + "." if self.domain not in UPGRADE_DOMAINS else ""
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        """Return the domain as plain data, for the JSON output."""
        judgement = asdict(self.judgement) if self.judgement else None
        return {
            "domain": self.domain,
            "proposal": self.proposal.rating,
            "proposal_change": self.proposal.change,
            "rule": self.proposal.rule,
            "numbers": self.proposal.numbers,
            "judgement": judgement["judgement"] if judgement else None,
            "reason": judgement["reason"] if judgement else None,
            "reviewer": judgement["reviewer"] if judgement else None,
            "date": judgement["date"] if judgement else None,
            "rating": self.rating,
            "change": self.change,
            "overridden": self.overridden,
            "footnote": self.footnote(),
        }


@dataclass
class Certainty:
    """The certainty of one analysis.

    Parameters
    ----------
    analysis : str
        The analysis name.
    domains : list of DomainRating
        Start first, then every domain in :data:`~evsynth.grade.rules.DOMAINS` order.
    """

    analysis: str
    domains: list[DomainRating] = field(default_factory=list)

    @property
    def start(self) -> int:
        """The starting level (4 high, 2 low)."""
        return self.domains[0].proposal.change

    @property
    def level(self) -> int:
        """The certainty level, 1 (very low) to 4 (high)."""
        total = self.start + sum(d.change for d in self.domains[1:])
        return max(1, min(4, total))

    @property
    def label(self) -> str:
        """high, moderate, low or very low."""
        return LEVELS[self.level - 1]

    @property
    def provisional(self) -> bool:
        """Whether a domain only the team can judge is still unjudged."""
        return any(d.pending for d in self.domains)

    def footnotes(self) -> list[str]:
        """Return the footnotes of the analysis's row, in domain order."""
        return [text for d in self.domains if (text := d.footnote())]


def rate(
    analysis: str,
    proposals: list[Proposal],
    judgements: Mapping[tuple[str, str], Judgement],
) -> Certainty:
    """Combine one analysis's proposals with the team's judgements.

    Parameters
    ----------
    analysis : str
        The analysis.
    proposals : list of Proposal
        From :func:`evsynth.grade.rules.propose`, start first.
    judgements : mapping
        ``(analysis, domain)`` to the team's :class:`Judgement` (all analyses).

    Raises
    ------
    InputError
        If the team rates up (large effect, dose-response) evidence that starts
        high: GRADE rates up only non-randomised evidence that starts low.
    """
    out = Certainty(analysis)
    for proposal in proposals:
        judged = judgements.get((analysis, proposal.domain))
        if (
            judged is not None
            and proposal.rating == "not_applicable"
            and judged.change > 0
        ):
            raise InputError(
                f"{judged.judgement} for {proposal.domain} of {analysis}: the "
                "evidence starts high (randomised trials, or ROBINS-I), and GRADE "
                "rates up only evidence that starts low",
                file=judged.source,
                line=judged.line,
                column="judgement",
                expected="no, or no row for this domain",
            )
        out.domains.append(DomainRating(proposal.domain, proposal, judged))
    return out
