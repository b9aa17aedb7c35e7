"""The speed of matcalc's generated NumPy, function by function: timed against a hand-written
closed form and, where installed (``pip install '.[bench]'``), against jax.jit of jax.grad /
jax.hessian / a jvp of the gradient, PyTorch autograd and HIPS autograd.

    python bench/bench_code.py [--repeat N] [--only NAME ...] [--markdown]

One process, round-robin (each repeat times every contender once, so that a slow spell of the
machine hits them all alike), BLAS and the frameworks pinned to one thread, float64. Before any
timing every contender's result is checked against the hand-written one. Prints the median time
of the generated code and the ratios generated ÷ other, each the median over the repeats of the
ratio within one repeat (below 1: the generated code is faster); and, against the hand-written
form, the ratio of the best times (the floor, where a busy machine adds least noise).
The sizes are where the arithmetic dominates; the Hessians are at n = 200 (200 unknowns, and
800 for tr(XᵀAX) with X ∈ ℝ^{200×4}). The results, with the machine, are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matcalc import derive
from matcalc.codegen import py_name

# one thread everywhere: the thread pools start when NumPy or a framework is imported, so the
# benchmark restarts itself with these set
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
ONE_THREAD["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


@dataclass
class Case:
    """One benchmark: the function as matcalc reads it, what is derived, the inputs, the
    hand-written closed form, and f for the autodiff frameworks (over a module of NumPy-like
    operations, see ``Ops``; None where a framework cannot state it plainly)."""
    name: str
    text: str
    wrt: str
    kind: str                                  # "grad", "hess" or "hvp"
    sizes: dict                                # the sizes benchmarked
    inputs: Callable                           # (rng, **sizes) → {name: array or float}
    hand: Callable                             # the inputs by Python name → the result
    f: Callable | None = None                  # (ops, the inputs by Python name) → f
    shapes: dict = field(default_factory=dict)
    with_value: bool = False                   # a gradient returned with f, (f, ∇f)


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _logistic_hess(X, w, y):
    s = _sigmoid(X @ w)
    return X.T @ ((s * (1.0 - s))[:, None] * X)


def _logistic_hvp(X, w, y, V):
    s = _sigmoid(X @ w)
    return X.T @ (s * (1.0 - s) * (X @ V))


def _attention_grad(G, Q, K, d, V):
    S = _softmax_rows(Q @ K.T / np.sqrt(d))
    dP = G @ V.T
    return (S * (dP - (S * dP).sum(axis=1, keepdims=True))) @ K / np.sqrt(d)


def _batchnorm_grad(X, eps, gamma, beta, G):
    """The textbook backward pass (as in CS231n's assignment 2), fully vectorized."""
    mu = X.mean(axis=0)
    centered = X - mu
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=0) + eps)
    x_hat = centered * inv_std
    g_hat = G * gamma
    return inv_std * (g_hat - g_hat.mean(axis=0) - x_hat * (g_hat * x_hat).mean(axis=0))


def _gaussian_inputs(r, n):
    return {"S": _spd(r, n), "x": r.standard_normal(n), "μ": r.standard_normal(n)}


def _gaussian_value_grad(S, x, mu):
    """f = log det S + rᵀS⁻¹r (r = x − μ) and ∂f/∂μ = −2S⁻¹r from L = cholesky(S): log det S
    = 2 Σ log Lᵢᵢ, z = L⁻¹r, rᵀS⁻¹r = zᵀz, S⁻¹r = L⁻ᵀz (NumPy has no triangular solve)."""
    L = np.linalg.cholesky(S)
    z = np.linalg.solve(L, x - mu)
    return 2.0 * np.log(np.diagonal(L)).sum() + z @ z, -2.0 * np.linalg.solve(L.T, z)


def _spd_inverse(S):
    """S⁻¹ = L⁻ᵀL⁻¹ from L = cholesky(S)."""
    L_inv = np.linalg.inv(np.linalg.cholesky(S))
    return L_inv.T @ L_inv


def _gaussian_grad_s(S, x, mu):
    """∂f/∂S = S⁻¹ − S⁻¹rrᵀS⁻¹."""
    S_inv = _spd_inverse(S)
    a = S_inv @ (x - mu)
    return S_inv - np.outer(a, a)


def _gaussian_f(o, S, x, mu):
    r = x - mu
    return o.spd_logdet(S) + r @ o.spd_solve(S, r)


GAUSSIAN = "S ∈ 𝕊^n spd; x, μ ∈ ℝ^n; logdet(S) + (x − μ)ᵀS⁻¹(x − μ)"


def _onehot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, n)]


BATCH_NORM = ("X ∈ ℝ^{N×D}; γ, β ∈ ℝ^D; μ = mean(X, 1); v = var(X, 1); "
              "X̂ = (X − μ) ⊘ √(v + ε); Y = X̂ ∘ γᵀ + βᵀ; L = sum(G ∘ Y)")

LSQ3 = "‖A₁x − b₁‖₂² + ‖A₂x − b₂‖₂² + ‖A₃x − b₃‖₂²"

LOGISTIC = "sum(log(1 + exp(Xw)) − y ∘ Xw)"


def _logistic_inputs(r, n, m, hvp=False):
    return dict(X=r.standard_normal((n, m)) / np.sqrt(m), w=r.standard_normal(m),
                y=r.integers(0, 2, n).astype(float), **({"V": r.standard_normal(m)} if hvp else {}))


def _logistic_f(o, X, w, y):
    return o.sum(o.softplus(X @ w) - y * (X @ w))


def _lsq_f(o, A, x, b):
    return o.sum((A @ x - b) ** 2)


def _lsq_inputs(r, n, m, hvp=False):
    return dict(A=r.standard_normal((n, m)), x=r.standard_normal(m), b=r.standard_normal(n),
                **({"V": r.standard_normal(m)} if hvp else {}))


CASES = [
    Case("least squares ∇", "‖Ax − b‖₂²", "x", "grad", {"n": 4000, "m": 2000}, _lsq_inputs,
         lambda A, x, b: 2.0 * (A.T @ (A @ x - b)), _lsq_f),
    Case("least squares H", "‖Ax − b‖₂²", "x", "hess", {"n": 400, "m": 200}, _lsq_inputs,
         lambda A, x, b: 2.0 * (A.T @ A), _lsq_f),
    Case("least squares Hv", "‖Ax − b‖₂²", "x", "hvp", {"n": 4000, "m": 2000},
         lambda r, n, m: _lsq_inputs(r, n, m, hvp=True),
         lambda A, x, b, V: 2.0 * (A.T @ (A @ V)), _lsq_f),
    Case("logistic ∇", LOGISTIC, "w", "grad", {"n": 4000, "m": 2000}, _logistic_inputs,
         lambda X, w, y: X.T @ (_sigmoid(X @ w) - y), _logistic_f),
    Case("logistic H", LOGISTIC, "w", "hess", {"n": 1000, "m": 200}, _logistic_inputs,
         _logistic_hess, _logistic_f),
    Case("logistic Hv", LOGISTIC, "w", "hvp", {"n": 4000, "m": 2000},
         lambda r, n, m: _logistic_inputs(r, n, m, hvp=True), _logistic_hvp, _logistic_f),
    Case("aᵀX⁻¹b ∇X", "aᵀX⁻¹b", "X", "grad", {"n": 1000},
         lambda r, n: {"a": r.standard_normal(n), "X": _spd(r, n), "b": r.standard_normal(n)},
         lambda a, X, b: -np.outer(np.linalg.solve(X.T, a), np.linalg.solve(X, b)),
         lambda o, a, X, b: o.sum(a * o.solve(X, b))),
    Case("3-term least squares ∇", LSQ3, "x", "grad",
         {"n1": 2000, "n2": 1500, "n3": 1000, "m": 1500},
         lambda r, n1, n2, n3, m: {
             "A1": r.standard_normal((n1, m)), "x": r.standard_normal(m),
             "b1": r.standard_normal(n1),
             "A2": r.standard_normal((n2, m)), "b2": r.standard_normal(n2),
             "A3": r.standard_normal((n3, m)), "b3": r.standard_normal(n3)},
         lambda A1, x, b1, A2, b2, A3, b3: 2.0 * (A1.T @ (A1 @ x - b1) + A2.T @ (A2 @ x - b2)
                                                  + A3.T @ (A3 @ x - b3)),
         lambda o, A1, x, b1, A2, b2, A3, b3: (o.sum((A1 @ x - b1) ** 2)
                                               + o.sum((A2 @ x - b2) ** 2)
                                               + o.sum((A3 @ x - b3) ** 2))),
    Case("attention ∇Q", "d ∈ ℝ; sum(G ∘ softmax(QKᵀ/√d)V)", "Q", "grad",
         {"n": 1024, "p": 1024, "k": 64, "m": 64},
         lambda r, n, p, k, m: {"G": r.standard_normal((n, m)), "Q": r.standard_normal((n, k)),
                                    "K": r.standard_normal((p, k)), "d": float(k),
                                    "V": r.standard_normal((p, m))},
         _attention_grad,
         lambda o, G, Q, K, d, V: o.sum(G * (o.softmax_rows(Q @ K.T / d ** 0.5) @ V))),
    Case("tr(XᵀAX) H", "tr(XᵀAX)", "X", "hess", {"n": 200, "m": 4},
         lambda r, n, m: {"X": r.standard_normal((n, m)), "A": r.standard_normal((n, n))},
         lambda X, A: np.kron(np.eye(X.shape[1]), A + A.T),
         lambda o, X, A: o.sum(X * (A @ X))),
    Case("tr(XᵀAX) Hv", "tr(XᵀAX)", "X", "hvp", {"n": 2000, "m": 200},
         lambda r, n, m: {"X": r.standard_normal((n, m)), "A": r.standard_normal((n, n)),
                              "V": r.standard_normal((n, m))},
         lambda X, A, V: (A + A.T) @ V,
         lambda o, X, A: o.sum(X * (A @ X))),
    Case("‖XWᵀ‖² ∇W", "‖XWᵀ‖_F²", "W", "grad", {"n": 2000, "m": 500, "k": 200},
         lambda r, n, m, k: {"X": r.standard_normal((n, m)), "W": r.standard_normal((k, m))},
         lambda X, W: 2.0 * ((X @ W.T).T @ X),
         lambda o, X, W: o.sum((X @ W.T) ** 2)),
    Case("log det ∇", "logdet X", "X", "grad", {"n": 1000},
         lambda r, n: {"X": _spd(r, n)},
         lambda X: np.linalg.inv(X).T,
         lambda o, X: o.logdet(X)),
    Case("log det ∇, S spd", "S ∈ 𝕊^n spd; logdet S", "S", "grad", {"n": 1000},
         lambda r, n: {"S": _spd(r, n)}, _spd_inverse, lambda o, S: o.spd_logdet(S)),
    Case("Gaussian (f, ∇μ), S spd", GAUSSIAN, "μ", "grad", {"n": 1000}, _gaussian_inputs,
         _gaussian_value_grad, _gaussian_f, with_value=True),
    Case("Gaussian ∇S, S spd", GAUSSIAN, "S", "grad", {"n": 1000}, _gaussian_inputs,
         _gaussian_grad_s, _gaussian_f),
    Case("ReLU layer ∇W", "sum(G ∘ relu(XWᵀ + 𝟏bᵀ))", "W", "grad", {"n": 4000, "k": 1000, "m": 500},
         lambda r, n, k, m: {"G": r.standard_normal((n, m)), "X": r.standard_normal((n, k)),
                                 "W": r.standard_normal((m, k)), "b": r.standard_normal(m)},
         lambda G, X, W, b: (G * (X @ W.T + b > 0)).T @ X,
         lambda o, G, X, W, b: o.sum(G * o.relu(X @ W.T + b))),
    Case("batch norm ∇X", BATCH_NORM, "X", "grad", {"N": 4096, "D": 1024},
         lambda r, N, D: {"X": r.standard_normal((N, D)), "ε": 1e-5, "γ": r.uniform(0.5, 2.0, D),
                              "β": r.standard_normal(D), "G": r.standard_normal((N, D))},
         _batchnorm_grad,
         lambda o, X, eps, gamma, beta, G: o.sum(G * (
             (X - o.mean0(X)) / (o.mean0((X - o.mean0(X)) ** 2) + eps) ** 0.5 * gamma
             + beta))),
    Case("softmax cross-entropy ∇W", "Y ∈ ℝ^{n×k} onehot; −sum(Y ∘ logsoftmax(XW))", "W",
         "grad", {"n": 4000, "m": 500, "k": 100},
         lambda r, n, m, k: {"Y": _onehot(r, n, k), "X": r.standard_normal((n, m)),
                                 "W": r.standard_normal((m, k)) / np.sqrt(m)},
         lambda Y, X, W: X.T @ (_softmax_rows(X @ W) - Y),
         lambda o, Y, X, W: -o.sum(Y * o.logsoftmax_rows(X @ W))),
]


# --- the contenders -------------------------------------------------------------------------------

def generated(case: Case) -> Callable:
    """matcalc's function for the case, taking the inputs as keywords."""
    kind = {"grad": "gradient", "hess": "hessian", "hvp": "hessian"}[case.kind]
    result = derive(case.text, case.wrt, case.shapes or None, kind=kind)
    namespace: dict = {}
    exec(result.numpy_with_value() if case.with_value else result.numpy,  # noqa: S102
         namespace)                 # matcalc's own generated code
    fn = namespace[f"{case.kind}_{py_name(case.wrt)}"]
    return lambda kw: fn(**kw)


def _keywords(inputs: dict, drop=()) -> dict:
    """The inputs under their Python names (ε → eps, γ → gamma, A₁ → A1)."""
    return {py_name(k): v for k, v in inputs.items() if k not in drop}


class Ops:
    """The operations the cases' f use, for one framework's array module."""

    def __init__(self, m, name: str):
        self.m, self.name = m, name
        self.sum = m.sum
        self.exp, self.log = m.exp, m.log

    def softplus(self, t):
        return self.m.logaddexp(0.0, t) if self.name != "torch" else \
            self.m.nn.functional.softplus(t)

    def relu(self, t):
        return self.m.maximum(t, 0.0) if self.name != "torch" else self.m.relu(t)

    def solve(self, a, b):
        return self.m.linalg.solve(a, b)

    def logdet(self, a):
        return self.m.linalg.slogdet(a)[1]

    def spd_logdet(self, a):
        """log det of a positive definite a, 2 Σ log Lᵢᵢ from its Cholesky factor."""
        diagonal = self.m.diagonal(self.m.linalg.cholesky(a), 0, -1, -2)  # autograd's axes
        return 2.0 * self.sum(self.log(diagonal))

    def spd_solve(self, a, b):
        """a⁻¹b for a positive definite a, by its Cholesky factor where the framework has a
        Cholesky solve (HIPS autograd has none: LU)."""
        if self.name == "jax":
            import jax.scipy.linalg
            return jax.scipy.linalg.cho_solve((self.m.linalg.cholesky(a), True), b)
        if self.name == "torch":
            return self.m.cholesky_solve(b[:, None], self.m.linalg.cholesky(a))[:, 0]
        return self.m.linalg.solve(a, b)

    def mean0(self, a):
        return a.mean(axis=0) if self.name != "torch" else a.mean(dim=0)

    def logsoftmax_rows(self, s):
        if self.name == "torch":
            return self.m.log_softmax(s, dim=1)
        top = s.max(axis=1, keepdims=True)
        if self.name == "jax":
            import jax
            top = jax.lax.stop_gradient(top)
        return s - top - self.m.log(self.m.exp(s - top).sum(axis=1, keepdims=True))

    def softmax_rows(self, s):
        return self.exp(self.logsoftmax_rows(s))


def _positional(case: Case, ops: Ops, inputs: dict):
    """f over positional arguments (the inputs in order, but the direction V of an HVP), the
    index of the variable, and the arguments."""
    given = _keywords(inputs, drop=("V",) if case.kind == "hvp" else ())
    names = list(given)

    def f(*args):
        return case.f(ops, **dict(zip(names, args)))
    return f, names.index(py_name(case.wrt)), list(given.values())


def jax_contender(case: Case, inputs: dict):
    """jax.jit of jax.grad / jax.hessian / jvp of the gradient, or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    f, i, args = _positional(case, Ops(jnp, "jax"), inputs)
    args = [jnp.asarray(a) for a in args]
    if case.kind == "grad":
        fn = jax.jit((jax.value_and_grad if case.with_value else jax.grad)(f, argnums=i))
        return lambda: jax.block_until_ready(fn(*args)), f"JAX {jax.__version__}"
    if case.kind == "hess":
        fn = jax.jit(jax.hessian(f, argnums=i))
        return lambda: fn(*args).block_until_ready(), f"JAX {jax.__version__}"
    v = jnp.asarray(inputs["V"])

    def hvp(*a):
        def g(x):
            return jax.grad(f, argnums=i)(*a[:i], x, *a[i + 1:])
        return jax.jvp(g, (a[i],), (v,))[1]
    fn = jax.jit(hvp)
    return lambda: fn(*args).block_until_ready(), f"JAX {jax.__version__}"


def torch_contender(case: Case, inputs: dict):
    """PyTorch autograd (forward and backward on the CPU), or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    f, i, args = _positional(case, Ops(torch, "torch"), inputs)
    args = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]

    def at(x):
        return args[:i] + [x] + args[i + 1:]
    name = f"PyTorch {torch.__version__.split('+')[0]}"
    if case.kind == "grad":
        def grad():
            x = args[i].detach().requires_grad_(True)
            value = f(*at(x))
            value.backward()
            return (value.item(), x.grad) if case.with_value else x.grad
        return grad, name
    if case.kind == "hess":
        return lambda: torch.autograd.functional.hessian(lambda x: f(*at(x)), args[i]), name
    v = torch.from_numpy(inputs["V"])
    return lambda: torch.autograd.functional.hvp(lambda x: f(*at(x)), args[i], v)[1], name


def autograd_contender(case: Case, inputs: dict):
    """HIPS autograd, or None without it."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    f, i, args = _positional(case, Ops(anp, "autograd"), inputs)
    name = f"autograd {getattr(autograd, '__version__', '')}".strip()
    if case.kind == "grad":
        fn = (autograd.value_and_grad if case.with_value else autograd.grad)(f, i)
        return lambda: fn(*args), name
    if case.kind == "hess":
        fn = autograd.hessian(f, i)
        return lambda: fn(*args), name
    fn = autograd.hessian_vector_product(f, i)
    return lambda: fn(*args, inputs["V"]), name


PEERS = {"jax": jax_contender, "torch": torch_contender, "autograd": autograd_contender}


# --- timing ---------------------------------------------------------------------------------------

def _agree(got, want, label: str) -> None:
    """got equals want (a Hessian as a 4-tensor H[i, j, k, l] = ∂²f/∂X_ij∂X_kl compared as
    matcalc's ∂vec(∇f)/∂vec(X), column-major; (f, ∇f) item by item)."""
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            _agree(g, w, label)
        return
    got = np.asarray(got, dtype=float)
    if got.ndim == 4:
        got = got.transpose(1, 0, 3, 2)
    got = got.reshape(np.shape(want))
    error = np.abs(got - want).max() / max(np.abs(want).max(), 1e-300)
    if not error < 1e-7:
        raise AssertionError(f"{label} disagrees with the hand-written form ({error:.1e})")


def run_case(case: Case, repeat: int, peers: list[str]) -> dict:
    """The median time of each contender, and the median over the repeats of the generated
    code's time ÷ each other's in the same repeat (pairs timed moments apart, so that a load
    that comes and goes on the machine cancels); the order is reversed every other repeat.
    Every result is checked first."""
    inputs = case.inputs(np.random.default_rng(0), **case.sizes)
    ours, keywords = generated(case), _keywords(inputs)
    want = case.hand(**keywords)
    want = tuple(map(np.asarray, want)) if isinstance(want, tuple) else np.asarray(want)
    contenders = {"generated": lambda: ours(keywords),
                  "hand-written": lambda: case.hand(**keywords)}
    names = {}
    for peer in peers:
        made = PEERS[peer](case, inputs) if case.f is not None else None
        if made is not None:
            contenders[peer], names[peer] = made
    for label, fn in contenders.items():
        _agree(fn(), want, f"{case.name}: {label}")         # also the warm-up (jit compiles)
    times: dict = {label: [] for label in contenders}
    for i in range(repeat):
        for label, fn in (list(contenders.items())[::-1 if i % 2 else 1]):
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    ours_times = times["generated"]
    return {"median": {k: statistics.median(v) for k, v in times.items()},
            "best": {k: min(v) for k, v in times.items()},
            "ratio": {k: statistics.median(a / b for a, b in zip(ours_times, v))
                      for k, v in times.items() if k != "generated"},
            "names": names}


def machine() -> str:
    parts = [platform.processor() or platform.machine(), f"Python {platform.python_version()}",
             f"NumPy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info
        blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                f"{i['num_threads']} thread)" for i in threadpool_info()
                if i["user_api"] == "blas"]
        parts += blas
    except ImportError:
        pass
    return ", ".join(parts)


def main() -> None:
    if any(os.environ.get(k) != v for k, v in ONE_THREAD.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ONE_THREAD})
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", nargs="*", help="case names containing one of these words")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    opts = parser.parse_args()
    cases = [c for c in CASES if not opts.only or any(w in c.name for w in opts.only)]
    print(machine())
    rows, versions = [], {}
    for case in cases:
        result = run_case(case, opts.repeat, opts.peers)
        versions.update(result["names"])
        ours, ratios, best = result["median"]["generated"], result["ratio"], result["best"]
        floor = best["generated"] / best["hand-written"]
        rows.append((case.name, ours, best["generated"], floor, ratios))
        others = "  ".join(f"÷{k} {r:5.2f}" for k, r in ratios.items())
        print(f"{case.name:<26} {ours * 1e3:9.2f} ms (best {best['generated'] * 1e3:.2f})  "
              f"{others}  (best ÷hand-written {floor:.2f})", flush=True)
    if versions:
        print("peers: " + ", ".join(versions.values()))
    if opts.markdown:
        peers = [p for p in opts.peers if any(p in r for *_, r in rows)]
        print("\n| function | generated, ms (median / best) | ÷ hand-written (median / best) | "
              + " | ".join(f"÷ {versions.get(p, p)}" for p in peers) + " |")
        print("|---|---:|---:|" + "---:|" * len(peers))
        for name, ours, best, floor, ratios in rows:
            cells = [f"{ratios[p]:.2f}" if p in ratios else "—" for p in peers]
            print(f"| {name} | {ours * 1e3:.2f} / {best * 1e3:.2f} | "
                  f"{ratios['hand-written']:.2f} / {floor:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
