"""The GPT-2 plugin: the byte-level BPE lossless on arbitrary text (hypothesis), its merges equal to the
textbook loop on random corpora, its pieces and compression beside Hugging Face's ``tokenizers`` (a test-only
dependency), the model against TinyTransformer and causal; and checks that fail for a decode that drops a
byte, merges that break ties the other way, and an initialisation without the 1/√N scaling."""

from __future__ import annotations

import itertools

import pytest
import tokenizers
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from readtrack_plugins.gpt2 import experiment
from readtrack_plugins.gpt2.model import GPT, ByteLevelBPE, GPTConfig, pretokenize

from readtrack.plugin_kit.transformer import TinyTransformer
from readtrack.runner import run_plugin
from readtrack.testing import check_catches, failures, run_stage

PLUGIN = "readtrack_plugins.gpt2"
TEXT = experiment.synthetic_text(0, 300) + experiment.HOSTILE
BPE = ByteLevelBPE.train(TEXT, 600)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=80))
def test_decode_inverts_encode_for_any_text(text: str) -> None:
    ids = BPE.encode(text)
    assert BPE.decode(ids) == text
    assert all(0 <= i < len(BPE.vocab) for i in ids)
    assert "".join(pretokenize(text)) == text


# Characters this Python's Unicode tables (14.0 for 3.11) assign: the Rust regex behind `tokenizers` knows
# newer versions, whose new letters Python still calls unassigned (Cn).
ASSIGNED = st.characters(codec="utf-8", exclude_categories=["Cn"])


@settings(max_examples=300, deadline=None)
@given(st.text(ASSIGNED, max_size=60))
def test_pieces_equal_the_gpt2_pre_tokenizer_of_tokenizers(text: str) -> None:
    assert [p.encode("utf-8") for p in pretokenize(text)] == experiment.hf_pieces(tokenizers, text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="aab b.1'sé", max_size=25), min_size=1, max_size=6), st.integers(1, 30))
def test_merges_equal_the_textbook_loop_on_random_corpora(texts: list[str], merges: int) -> None:
    assert ByteLevelBPE.train(texts, 256 + merges).merges == experiment.naive_bpe_merges(texts, merges)


def test_pieces_follow_the_pattern() -> None:
    assert pretokenize("Hello  world's 12.5%\n\n x") == [
        "Hello",
        " ",
        " world",
        "'s",
        " 12",
        ".",
        "5",
        "%",
        "\n\n",
        " x",
    ]
    assert pretokenize("über数据🙂🙂") == ["über数据", "🙂🙂"]  # letters of any script are one category
    assert pretokenize("a\x1cb") == ["a", "\x1c", "b"]  # U+001C is no White_Space, whatever str.isspace says


def test_vocabulary_is_bytes_then_merges_and_stops_when_nothing_is_left() -> None:
    bpe = ByteLevelBPE.train(["abab abab"], 10_000)
    assert [bpe.vocab[i] for i in range(256, len(bpe.vocab))] == [b"ab", b"abab", b" abab"]
    assert bpe.encode("abab abab") == [257, 258]
    with pytest.raises(ValueError, match="256 bytes"):
        ByteLevelBPE.train(["x"], 100)


def test_compression_equals_tokenizers_on_held_out_text() -> None:
    held_out = experiment.synthetic_text(1, 100)
    n_bytes = sum(len(t.encode("utf-8")) for t in held_out)
    hf = experiment.hf_bpe(tokenizers, TEXT, 600)
    ours = n_bytes / sum(len(BPE.encode(t)) for t in held_out)
    theirs = n_bytes / sum(len(e.ids) for e in hf.encode_batch(held_out))
    assert ours == pytest.approx(theirs, rel=0.02)
    assert ours > 2.5


@pytest.mark.parametrize(("layers", "n"), [(1, 1), (2, 5), (4, 19)])
def test_pre_ln_model_equals_tiny_transformer(layers: int, n: int) -> None:
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab=30, max_len=20, d_model=24, n_heads=3, layers=layers)).double()
    torch.manual_seed(0)
    tiny = TinyTransformer(30, 20, 24, 3, layers).double()
    tokens = torch.randint(0, 30, (2, n))
    assert all(map(torch.equal, gpt.state_dict().values(), tiny.state_dict().values()))
    torch.testing.assert_close(gpt(tokens), tiny(tokens))  # softmax by hand against SDPA: rounding apart


@pytest.mark.parametrize("pre_ln", [True, False])
def test_no_logit_depends_on_a_later_token(pre_ln: bool) -> None:
    model = GPT(GPTConfig(16, 12, 32, 4, 3, pre_ln=pre_ln, scaled_init=pre_ln)).double()
    x0 = torch.randn(1, 12, 32, dtype=torch.float64)

    def logits(x: torch.Tensor) -> torch.Tensor:
        for block in model.blocks:
            x = block(x)
        return model.ln_f(x)

    jacobian = torch.autograd.functional.jacobian(logits, x0)[0, :, :, 0].abs().sum(dim=(1, 3))  # (t, s)
    assert (jacobian.triu(1) == 0).all() and (jacobian.diagonal() > 0).all()


class DropsLastByte(ByteLevelBPE):
    def decode(self, ids: list[int]) -> str:
        return b"".join(self.vocab[i] for i in ids)[:-1].decode("utf-8", errors="replace")


class LargestPairOnTies(ByteLevelBPE):
    @classmethod
    def train(cls, texts: list[str], vocab_size: int, split_digits: bool = False) -> LargestPairOnTies:
        """Ties broken towards the largest pair: a different tokenizer than the reference's."""
        merges = []
        words = [list(p.encode("utf-8")) for t in texts for p in pretokenize(t)]
        for new in range(256, vocab_size):
            counts: dict[tuple[int, int], int] = {}
            for w in words:
                for pair in itertools.pairwise(w):
                    counts[pair] = counts.get(pair, 0) + 1
            if not counts:
                break
            best = max(counts, key=lambda p: (counts[p], p))
            merges.append(best)
            words = [_apply(w, best, new) for w in words]
        return cls(merges)


def _apply(word: list[int], pair: tuple[int, int], new: int) -> list[int]:
    out, i = [], 0
    while i < len(word):
        if tuple(word[i : i + 2]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def unscaled_gpt(config: GPTConfig) -> GPT:
    """GPT-2 with the 1/√N of the residual projections forgotten."""
    return GPT(GPTConfig(**{**config.__dict__, "scaled_init": False}))


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (f"{PLUGIN}.experiment.ByteLevelBPE", DropsLastByte, ("decode(encode(x)) == x",)),
        (f"{PLUGIN}.experiment.ByteLevelBPE", LargestPairOnTies, ("BPE merges",)),
        (f"{PLUGIN}.experiment.GPT", unscaled_gpt, ("GPT-2 init", "scaled init")),
    ],
)
def test_the_check_stage_catches_a_lossy_decode_other_merges_or_a_missing_scaling(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: tuple[str, ...]
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("gpt2", *caught_by)


def test_without_tokenizers_the_check_still_runs_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{PLUGIN}.experiment._hf_tokenizers", lambda: None)
    result = run_stage("gpt2", "check")
    assert result.verdict() == "passed", failures(result)
    assert not any("tokenizers'" in c.name for c in result.comparisons)


def test_without_the_scaling_the_stream_grows_with_depth_and_the_flat_claim_fails() -> None:
    """``--set scaled_init=false`` (the ablation switch of config.py): the arm "with 1/√N scaling" is
    initialised plainly, its stream variance grows with depth as the other arm's, and the flat-in-depth claim
    is missed, reported against its threshold, not asserted (a knob is off its calibrated default)."""
    settings = {"scaled_init": False, "bpe_vocab": 257}  # one merge: the BPE part kept short
    record = run_plugin("gpt2", device="cpu", quick=True, only="train", settings=settings, keep_history=False)
    (result,) = record.stages
    assert not result.targets and not result.error, failures(result)
    values = {m.name: m.value for m in result.measured}
    at_48 = [values[f"Var(x_L)/Var(x_0) at init, L = 48, {w} 1/√N scaling"] for w in ("with", "without")]
    assert at_48[0] == at_48[1]  # the same initialisation twice
    (flat,) = [m for m in result.measured if m.name.startswith("with 1/√N: Var(x_L)/Var(x_0) at L = 48")]
    assert flat.claim == (1.2, False) and flat.value > 4, flat
    assert "scaled_init=false" in flat.detail
