"""Whisper (Radford, Kim, Xu, Brockman, McLeavey and Sutskever 2022): a log-Mel front end and an
encoder-decoder transformer whose decoder is told its task by special tokens (section 2.2-2.3, figure 1).

Front end (section 2.2; the public code fixes what the paper leaves out):
    X[m, f]   = Σ_n w[n] x[m·hop + n − N/2] e^(−2πi f n / N)     framed DFT, periodic Hann window w, reflect
                                                              padding of N/2 at both ends, last frame dropped
    S[b, m]   = Σ_f M[b, f] |X[m, f]|²                        mel filterbank M (Slaney: librosa's default)
    L         = log10(max(S, 1e-10));  L = max(L, max(L) − 8);  L = (L + 4) / 4       (clamp, normalise)
The paper: 16 kHz, 25 ms windows, 10 ms stride, 80 channels. Here 8 kHz, the same 25 ms / 10 ms (N = 200,
hop = 80) and fewer channels.

Mel scale (Slaney, as librosa with htk=False): mel(f) = 3f/200 below 1 kHz, 15 + 27·ln(f/1000)/ln 6.4 above;
each filter a triangle between its neighbours' centres (n_mels + 2 points evenly spaced in mel), scaled by
2 / (f_(b+2) − f_b) so that every triangle has unit area in Hz ("slaney" normalisation).

Model (section 2.3, figure 1): two convolutions of width 3 with GELU, the second with stride 2; sinusoidal
positions; pre-LN encoder blocks and a final LayerNorm. The decoder: learned positions, pre-LN blocks with
causal self-attention, then cross-attention to the encoder's output, tied read-out. As in the public code,
the key projection has no bias.

Sequence format (figure 1): <|startoftranscript|> <|task|> y_1 … y_n <|endoftext|>, the task token
<|transcribe|> or <|translate|>.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# -- the log-Mel front end -------------------------------------------------------------------------------


def hann_window(N: int, *, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """Periodic Hann window w[n] = sin²(πn/N) = ½(1 − cos(2πn/N)), n = 0 … N−1 (as ``torch.hann_window``)."""
    n = torch.arange(N, dtype=dtype, device=device)
    return 0.5 - 0.5 * torch.cos(2 * math.pi * n / N)


def stft_power(x: torch.Tensor, N: int, hop: int) -> torch.Tensor:
    """|X[m, f]|² for audio x (B, samples): reflect-pad N/2 each side, frames of N every ``hop`` samples,
    Hann window, DFT as two matmuls. Returns (B, N/2 + 1, frames), frames = 1 + samples // hop."""
    padded = F.pad(x[:, None], (N // 2, N // 2), mode="reflect")[:, 0]  # (B, samples + N)
    frames = padded.unfold(-1, N, hop) * hann_window(N, dtype=x.dtype, device=x.device)  # (B, M, N)
    n = torch.arange(N, device=x.device)
    f = torch.arange(N // 2 + 1, device=x.device)
    angle = (2 * math.pi / N) * (torch.outer(n, f) % N).to(x.dtype)  # (N, F): 2πfn/N, fn reduced mod N
    real, imag = frames @ torch.cos(angle), -(frames @ torch.sin(angle))  # (B, M, F) each
    return (real.square() + imag.square()).transpose(1, 2)  # (B, F, M)


def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    """Slaney's mel scale: linear (3f/200) below 1 kHz, logarithmic above (27 mels per factor of 6.4)."""
    return torch.where(f < 1000.0, 3.0 * f / 200.0, 15.0 + 27.0 * torch.log(f / 1000.0) / math.log(6.4))


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return torch.where(m < 15.0, 200.0 * m / 3.0, 1000.0 * torch.exp((m - 15.0) * math.log(6.4) / 27.0))


def mel_filters(sample_rate: int, N: int, n_mels: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """M (n_mels, N/2 + 1): Slaney-normalised triangles, centres evenly spaced in mel from 0 to sr/2."""
    fft_hz = torch.linspace(0, sample_rate / 2, N // 2 + 1, dtype=dtype)  # (F,)
    top = hz_to_mel(torch.tensor(sample_rate / 2, dtype=dtype))
    points = mel_to_hz(torch.linspace(0.0, float(top), n_mels + 2, dtype=dtype))  # (n_mels + 2,) in Hz
    lower, centre, upper = points[:-2, None], points[1:-1, None], points[2:, None]  # (n_mels, 1) each
    rising = (fft_hz - lower) / (centre - lower)  # (n_mels, F)
    falling = (upper - fft_hz) / (upper - centre)
    triangles = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return triangles * (2.0 / (upper - lower))  # unit area in Hz


def log_mel(x: torch.Tensor, filters: torch.Tensor, N: int, hop: int) -> torch.Tensor:
    """Audio (B, samples) → normalised log-Mel (B, n_mels, frames − 1), Whisper's clamping per example."""
    power = stft_power(x, N, hop)[..., :-1]  # (B, F, M − 1): Whisper drops the last frame
    mel = filters.to(x.dtype) @ power  # (B, n_mels, M − 1)
    L = torch.clamp(mel, min=1e-10).log10()
    L = torch.maximum(L, L.amax(dim=(1, 2), keepdim=True) - 8.0)  # at most 80 dB below the loudest
    return (L + 4.0) / 4.0


# -- the encoder-decoder -------------------------------------------------------------------------------


def sinusoids(length: int, channels: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """(length, channels): sin(t·ω_i) then cos(t·ω_i), ω_i = 10000^(−i/(channels/2 − 1)) (Whisper's code)."""
    increment = math.log(10000) / (channels // 2 - 1)
    inv_timescales = torch.exp(-increment * torch.arange(channels // 2, device=device))  # (C/2,)
    scaled = torch.arange(length, device=device)[:, None] * inv_timescales[None, :]  # (T, C/2)
    return torch.cat([scaled.sin(), scaled.cos()], dim=1)


class MultiHeadAttention(nn.Module):
    """softmax(QKᵀ/√d) V per head; queries from x, keys and values from ``xa`` (cross) or x (self)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model, bias=False)  # a key bias adds q·b to every logit: no effect
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, xa: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        source = x if xa is None else xa
        B, N, D = x.shape
        H = self.n_heads
        q = self.query(x).view(B, N, H, D // H).transpose(1, 2)  # (B, H, N, d)
        k = self.key(source).view(B, source.shape[1], H, D // H).transpose(1, 2)  # (B, H, S, d)
        v = self.value(source).view(B, source.shape[1], H, D // H).transpose(1, 2)  # (B, H, S, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // H)  # (B, H, N, S)
        if causal:
            future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        y = scores.softmax(dim=-1) @ v  # (B, H, N, d)
        return self.out(y.transpose(1, 2).reshape(B, N, D))


class ResidualAttentionBlock(nn.Module):
    """Pre-LN: x + SelfAttn(LN x) [+ CrossAttn(LN x, xa) in the decoder] + MLP(LN x), GELU, 4× wide."""

    def __init__(self, d_model: int, n_heads: int, cross_attention: bool = False) -> None:
        super().__init__()
        self.attn_ln = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn_ln = nn.LayerNorm(d_model) if cross_attention else None
        self.cross_attn = MultiHeadAttention(d_model, n_heads) if cross_attention else None
        self.mlp_ln = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, xa: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        x = x + self.attn(self.attn_ln(x), causal=causal)
        if self.cross_attn is not None and self.cross_attn_ln is not None:
            x = x + self.cross_attn(self.cross_attn_ln(x), xa)
        return x + self.mlp(self.mlp_ln(x))


class AudioEncoder(nn.Module):
    """log-Mel (B, n_mels, frames) → (B, frames / 2, D): conv stem, sinusoidal positions, blocks, ln_post."""

    def __init__(self, n_mels: int, d_model: int, n_heads: int, layers: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, d_model, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d_model, d_model, kernel_size=3, stride=2, padding=1)  # halves the frames
        for conv in (self.conv1, self.conv2):  # He init: PyTorch's default leaves the audio ~50x below the
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # ±1 sinusoids at the start
            nn.init.zeros_(conv.bias)  # type: ignore[arg-type]
        self.blocks = nn.ModuleList(ResidualAttentionBlock(d_model, n_heads) for _ in range(layers))
        self.ln_post = nn.LayerNorm(d_model)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv1(mel))  # (B, D, frames)
        x = F.gelu(self.conv2(x)).transpose(1, 2)  # (B, ⌈frames/2⌉, D)
        x = x + sinusoids(x.shape[1], x.shape[2], device=x.device).to(x.dtype)
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    """Tokens (B, n) and the audio features (B, S, D) → logits (B, n, vocab): row i predicts token i + 1."""

    def __init__(self, vocab: int, n_ctx: int, d_model: int, n_heads: int, layers: int) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d_model)
        nn.init.normal_(self.token_embedding.weight, std=0.02)  # also the read-out: small logits at first
        self.positional_embedding = nn.Parameter(torch.empty(n_ctx, d_model).normal_(std=0.01))  # learned
        self.blocks = nn.ModuleList(
            ResidualAttentionBlock(d_model, n_heads, cross_attention=True) for _ in range(layers)
        )
        self.ln = nn.LayerNorm(d_model)

    def forward(self, tokens: torch.Tensor, xa: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(tokens) + self.positional_embedding[: tokens.shape[1]]  # (B, n, D)
        return self.run_blocks(x, xa) @ self.token_embedding.weight.T  # tied read-out (B, n, vocab)

    def run_blocks(self, x: torch.Tensor, xa: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, xa, causal=True)
        return self.ln(x)


@dataclass
class WhisperConfig:
    n_mels: int = 20
    vocab: int = 10  # symbols, then the special tokens (see experiment.py)
    n_ctx: int = 12  # longest token sequence
    d_model: int = 64
    n_heads: int = 4
    encoder_layers: int = 2
    decoder_layers: int = 2


class Whisper(nn.Module):
    def __init__(self, cfg: WhisperConfig) -> None:
        super().__init__()
        self.encoder = AudioEncoder(cfg.n_mels, cfg.d_model, cfg.n_heads, cfg.encoder_layers)
        self.decoder = TextDecoder(cfg.vocab, cfg.n_ctx, cfg.d_model, cfg.n_heads, cfg.decoder_layers)

    def forward(self, mel: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(tokens, self.encoder(mel))

    @torch.no_grad()
    def greedy(self, mel: torch.Tensor, prompt: torch.Tensor, steps: int) -> torch.Tensor:
        """Prompt (B, p) extended by ``steps`` arg-max tokens: (B, p + steps); the audio encoded once."""
        xa, tokens = self.encoder(mel), prompt
        for _ in range(steps):
            next_token = self.decoder(tokens, xa)[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
            tokens = torch.cat([tokens, next_token], dim=1)
        return tokens
