"""Class scores used by the mask optimisers."""

import torch


def log_odds(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Log-odds of the target class, ``log p(y|x) - log sum_{c != y} p(c|x)``.

    Computed stably from logits as ``logit_y - logsumexp_{c != y} logit_c`` (the softmax
    normaliser cancels). ``logits`` is (N, K) with K >= 2, ``target`` is (N,) int64; returns (N,).
    """
    target = target.view(-1, 1)
    chosen = logits.gather(1, target).squeeze(1)
    others = logits.scatter(1, target, float("-inf")).logsumexp(dim=1)
    return chosen - others


def target_probability(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax probability (N,) of ``target`` (N,) given logits (N, K)."""
    return logits.float().softmax(dim=1).gather(1, target.view(-1, 1)).squeeze(1)
