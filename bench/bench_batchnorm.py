"""Speed of matcalc's generated NumPy for the batch-norm backward pass ∂L/∂X against a
hand-written NumPy backward pass, measured in the same run at N = 4096, D = 1024.

    python bench/bench_batchnorm.py

Prints the median wall time of each over repeated runs and their ratio (matcalc / hand-written),
after checking that both give the same ∂L/∂X; and, when PyTorch is installed, the time of its
autograd (forward and backward) on the same arrays. All start from X, γ and the upstream G, so
all recompute the batch statistics.
"""

from __future__ import annotations

import numpy as np
from timing import median_time

from matcalc import derive

N, D = 4096, 1024
EPS = 1e-5
BATCH_NORM = ("X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); "
              "X̂ = (X − μ) ⊘ √(v + ε); Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)")


def hand_written(X, eps, gamma, G):
    """The textbook backward pass (as in CS231n's assignment 2), fully vectorized."""
    mu = X.mean(axis=0)
    centered = X - mu
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=0) + eps)
    x_hat = centered * inv_std
    g_hat = G * gamma
    return inv_std * (g_hat - g_hat.mean(axis=0) - x_hat * (g_hat * x_hat).mean(axis=0))


def torch_autograd():
    """∂L/∂X by PyTorch's autograd (forward and backward, CPU), or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None

    def grad(X, eps, gamma, G):
        x = torch.from_numpy(X).requires_grad_(True)
        mu = x.mean(dim=0)
        v = x.var(dim=0, unbiased=False)
        y = (x - mu) / torch.sqrt(v + eps) * torch.from_numpy(gamma)
        (torch.from_numpy(G) * y).sum().backward()
        return x.grad.numpy()
    return grad, f"PyTorch {torch.__version__} autograd ({torch.get_num_threads()} threads)"


def main() -> None:
    namespace: dict = {}
    exec(derive(BATCH_NORM, "X").numpy, namespace)   # noqa: S102 — our own generated code
    grad_X = namespace["grad_X"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    G = rng.standard_normal((N, D))
    gamma, beta = rng.uniform(0.5, 2.0, D), rng.standard_normal(D)
    ours = grad_X(X, EPS, gamma, beta, G)
    theirs = hand_written(X, EPS, gamma, G)
    error = np.abs(ours - theirs).max() / np.abs(theirs).max()
    assert error < 1e-9, f"the two backward passes disagree (relative error {error:.1e})"
    t_ours = median_time(lambda: grad_X(X, EPS, gamma, beta, G))
    t_theirs = median_time(lambda: hand_written(X, EPS, gamma, G))
    print(f"batch norm ∂L/∂X, N={N}, D={D} (they agree to {error:.0e})")
    print(f"  matcalc generated NumPy  {t_ours * 1e3:8.1f} ms")
    print(f"  hand-written NumPy       {t_theirs * 1e3:8.1f} ms")
    print(f"  ratio                    {t_ours / t_theirs:8.2f}  (the issue's bar: at most 1.5)")
    peer = torch_autograd()
    if peer is None:
        print("  PyTorch is not installed: its autograd is not measured")
        return
    grad, name = peer
    error = np.abs(grad(X, EPS, gamma, G) - theirs).max() / np.abs(theirs).max()
    assert error < 1e-9, f"PyTorch disagrees (relative error {error:.1e})"
    t_torch = median_time(lambda: grad(X, EPS, gamma, G))
    print(f"  {name}  {t_torch * 1e3:8.1f} ms   ratio matcalc/PyTorch {t_ours / t_torch:.2f}")


if __name__ == "__main__":
    main()
