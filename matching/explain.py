"""Short Chinese explanations of a pair, built only from what its features show.

Example: 「研究方向匹配：尼龙66、纺丝工艺；同属尼龙新材料产业链；宝丰县籍；可柔性引进，每年在平4个月」.

Rules:

- a feature gets a part only when its contribution (``weight · value``, from
  :func:`matching.features.fused_score` or a ranker) is strictly positive **and** its details
  support a statement; a positive contribution from a neutral value (unknown months, no
  requirement asked) or a weak one (a kind fit below 0.5, a non-full-time talent for a
  full-time need) says nothing;
- the coverage part lists only terms that actually matched (at most :data:`MAX_TERMS`, then
  「等N项」); a term matched through a synonym shows the talent's wording in brackets;
- soft-rule reasons come last as 「⚠ …」 parts of kind ``flag`` with contribution 0: they are
  flags, not claims of fit;
- parts follow :data:`DISPLAY_ORDER` (concrete evidence first, similarity numbers after),
  joined by 「；」. ``Explanation.contributions`` keeps every feature's number for the review
  page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field

from matching.features import BOND_TIES, PairDetails, PairFeatures
from matching.rules import Reason

DISPLAY_ORDER = ("coverage", "same_chain", "tie", "availability", "seniority", "kind_fit",
                 "dense", "lexical", "freshness")
MAX_TERMS = 5
SEP = "；"
FLEXIBLE = "柔性"
KIND_FIT_GOOD, KIND_FIT_FAIR = 0.8, 0.5
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class ExplanationPart:
    """One statement: the feature it rests on, its text, and the feature's contribution."""

    feature: str
    text: str
    contribution: float
    kind: str = "fit"


@dataclass
class Explanation:
    """The sentence, its parts, and every feature's contribution."""

    text_zh: str
    parts: list[ExplanationPart]
    contributions: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON and the review page."""
        return asdict(self)


def explain(features: PairFeatures, contributions: Mapping[str, float],
            flags: Iterable[Reason] = ()) -> Explanation:
    """The Chinese explanation of one pair.

    Args:
        features: the pair's features (values and details).
        contributions: contribution per feature name (``weight · value``).
        flags: soft-rule reasons to show as 「⚠ …」 parts.

    Returns:
        The explanation; ``text_zh`` is empty when nothing can be stated.
    """
    parts = []
    for name in DISPLAY_ORDER:
        contribution = float(contributions.get(name, 0.0))
        if not contribution > 0:
            continue
        text = PART_TEXTS[name](features)
        if text:
            parts.append(ExplanationPart(name, text, contribution))
    parts += [ExplanationPart(f"rule:{r.code}", f"⚠ {r.text}", 0.0, "flag") for r in flags]
    return Explanation(SEP.join(p.text for p in parts), parts,
                       {k: float(v) for k, v in contributions.items()})


def _term_list(terms: list[str], d: PairDetails) -> str:
    shown = [f"{t}（{d.found_as[t]}）" if t in d.found_as else t for t in terms[:MAX_TERMS]]
    more = f"等{len(terms)}项" if len(terms) > MAX_TERMS else ""
    return "、".join(shown) + more


def coverage_text(f: PairFeatures) -> str | None:
    """「研究方向匹配：…，成果涉及：…」 from the matched terms only."""
    d = f.details
    if f.coverage <= 0 or not d.matched_terms:
        return None
    texts = []
    if d.matched_in_profile:
        texts.append("研究方向匹配：" + _term_list(d.matched_in_profile, d))
    if d.matched_in_items:
        texts.append("成果涉及：" + _term_list(d.matched_in_items, d))
    return "，".join(texts)


def chain_text(f: PairFeatures) -> str | None:
    """「同属…产业链」."""
    return f"同属{f.details.chain}产业链" if f.same_chain > 0 and f.details.chain else None


def tie_text(f: PairFeatures) -> str | None:
    """「宝丰县籍」 / 「叶县籍（平顶山）」 / 「有在平顶山成长经历」."""
    d = f.details
    if f.tie <= 0 or d.tie_basis is None:
        return None
    if d.tie_basis == "county" and d.hometown_county:
        return f"{d.hometown_county}籍"
    if d.tie_basis == "city":
        return f"{d.hometown_county}籍（{d.city}）" if d.hometown_county else f"{d.city}籍"
    bonds = [t for t in BOND_TIES if t in d.ties]
    if not bonds:
        return None
    words = {"成长经历": f"有在{d.city}成长经历", "情感联系": f"与{d.city}有情感联系"}
    return "，".join(words[b] for b in bonds)


def availability_text(f: PairFeatures) -> str | None:
    """「有全职引进意向」 / 「可柔性引进，每年在平4个月」 / 「每年可在平2个月（需3个月）」."""
    d = f.details
    if f.availability <= 0:
        return None
    if d.availability_basis == "full_time":
        return "有全职引进意向"
    if d.availability_basis != "months" or not d.months_per_year:
        return None
    where = d.city_abbrev or d.city or ""
    if d.months_required and d.months_per_year < d.months_required:
        return f"每年可在{where}{d.months_per_year}个月（需{d.months_required}个月）"
    if FLEXIBLE in d.intents:
        return f"可柔性引进，每年在{where}{d.months_per_year}个月"
    return f"每年可在{where}{d.months_per_year}个月"


def seniority_text(f: PairFeatures) -> str | None:
    """「职称正高级，满足要求（副高级及以上）」 when every asked rule is met."""
    d = f.details
    if not d.seniority_asked or f.seniority < 1.0:
        return None
    texts = []
    if d.required_title:
        texts.append(f"职称{d.title_name}，满足要求（{d.required_title}及以上）")
    if d.required_level:
        texts.append(f"{d.level}类人才，满足要求（{d.required_level}类及以上）")
    return "，".join(texts) or None


def kind_fit_text(f: PairFeatures) -> str | None:
    """「专业技术人才，适合技术攻关需求」 for a good fit (「较适合」 for a fair one)."""
    d = f.details
    if not d.kind_fit_known or f.kind_fit < KIND_FIT_FAIR:
        return None
    word = "适合" if f.kind_fit >= KIND_FIT_GOOD else "较适合"
    return f"{d.category}人才，{word}{d.kind_label}需求"


def dense_text(f: PairFeatures) -> str | None:
    """「语义相似度0.62」."""
    return f"语义相似度{f.dense:.2f}" if f.dense > 0 else None


def lexical_text(f: PairFeatures) -> str | None:
    """「关键词重合度0.85」 (BM25 relative to the query's best candidate)."""
    return f"关键词重合度{f.lexical:.2f}" if f.lexical > 0 else None


def freshness_text(f: PairFeatures) -> str | None:
    """「档案近一个月内更新」 / 「档案5个月前更新」."""
    age = f.details.age_days
    if age is None or f.freshness <= 0:
        return None
    months = int(age // DAYS_PER_MONTH)
    return "档案近一个月内更新" if months == 0 else f"档案{months}个月前更新"


PART_TEXTS: dict[str, Callable[[PairFeatures], str | None]] = {
    "coverage": coverage_text, "same_chain": chain_text, "tie": tie_text,
    "availability": availability_text, "seniority": seniority_text, "kind_fit": kind_fit_text,
    "dense": dense_text, "lexical": lexical_text, "freshness": freshness_text,
}
