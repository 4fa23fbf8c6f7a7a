"""The bundled sample data and its deterministic generator.

``generate(n_talents=2000, n_needs=300, seed=42, city="平顶山")`` builds validated records
(talents, enterprises, needs, 揭榜挂帅 challenges, 归根 projects) with hidden graded
relevance judgements; ``write_sample(data, out_dir)`` writes the import CSVs (Chinese
headers), ``talents.xlsx`` and the evaluation exchange files (``talents.jsonl``,
``needs.jsonl``, ``qrels.tsv``).
"""

from data.sample.generator import SampleData, generate
from data.sample.writer import need_row, need_text, talent_row, talent_text, write_sample

__all__ = ["SampleData", "generate", "need_row", "need_text", "talent_row", "talent_text",
           "write_sample"]
