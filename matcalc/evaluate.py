"""Numerical evaluation of a tree with NumPy, and the finite-difference check of a gradient.

Every value is a 2-D float array (a scalar is 1×1, a vector n×1), so the evaluator mirrors the
tree exactly. This is independent of the NumPy code generator on purpose: each checks the other.
The two share only the exact identities of stable.py, each node evaluated in the form that does
not cancel or overflow (1 − σ(t) as σ(−t), log σ(t) as −softplus(−t)): finite differences of a
value that lost its digits to cancellation would fail right derivatives.
"""

from __future__ import annotations

import numpy as np

from .errors import MatcalcError
from .ir import (D, Add, Commutation, Det, Diag, Expr, Frechet, Frechet2, Func, HadPow, Identity,
                 Kron, KronFrechet, KronFrechet2, LogDet, MatFunc, MatMul, Norm, Power, Spectral,
                 Transpose, UserFunc, Var, Zero, as_float, dim_value, distinct_nodes, walk)
from .printers import to_text
from .stable import RULES as STABLE_RULES


def _sigmoid(x):
    # σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0 and eˣ/(1 + eˣ) below: exact to the last digits in both tails
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


ELEMENTWISE = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign, "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0), "softplus": lambda x: np.logaddexp(0.0, x),
    "heaviside": lambda x: (x > 0).astype(float),
}

# Functions whose derivative jumps at 0: the check keeps their arguments away from there.
KINKED = ("abs", "sign", "relu", "heaviside")


class Evaluator:
    """Evaluate trees in an environment of named arrays and symbolic sizes."""

    def __init__(self, env: dict, sizes: dict, definitions: dict | None = None):
        self.env = env
        self.sizes = sizes
        self.definitions = definitions or {}
        self.cache: dict = {}

    def dim(self, d) -> int:
        return dim_value(d, self.sizes)

    def __call__(self, e: Expr) -> np.ndarray:
        # the inputs of a node are evaluated before it, from a stack rather than by recursion
        # (a chain of definitions 200 deep is 200 nested evaluations), so that each node's
        # method finds them computed
        stack: list = [(e, None)]          # (node, its stable form once its inputs are pushed)
        while stack:
            node, form = stack.pop()
            if node in self.cache:
                continue
            if form is not None:
                self.cache[node] = self.cache[form] if form is not node else \
                    getattr(self, "_" + type(node).__name__)(node)
                continue
            form = _stable_form(node)
            stack.append((node, form))
            stack.extend((a, None) for a in reversed(self._inputs(node, form))
                         if a not in self.cache)
        return self.cache[e]

    def _inputs(self, e: Expr, form: Expr) -> tuple:
        """What evaluating e evaluates first: its stable form, a name's definition, a user
        function's entrywise body, or its children."""
        if form is not e:
            return (form,)
        if isinstance(e, Var):
            return () if e.name in self.env or e.name not in self.definitions else \
                (self.definitions[e.name],)
        if isinstance(e, UserFunc):
            return (e.entrywise(),)
        return () if isinstance(e, D) else e.args

    def _Var(self, e):
        if e.name in self.env:
            return self.env[e.name]
        return self(self.definitions[e.name])

    def _Num(self, e):
        return np.array([[as_float(e.value)]])

    def _Identity(self, e):
        return np.eye(self.dim(e.rows))

    def _Ones(self, e):
        return np.ones((self.dim(e.rows), self.dim(e.cols)))

    def _Zero(self, e):
        return np.zeros((self.dim(e.rows), self.dim(e.cols)))

    def _Add(self, e):
        return sum(self(a) for a in e.args)

    def _MatMul(self, e):
        scale, chain = 1.0, []
        for a in e.args:
            if a.shape == (1, 1):
                scale = scale * self(a)[0, 0]
            else:
                chain.append(self(a))
        if not chain:
            return np.array([[scale]])
        out = chain[0]
        for m in chain[1:]:
            out = out @ m
        return scale * out

    def _Hadamard(self, e):
        out = self(e.args[0])
        for a in e.args[1:]:
            out = out * self(a)
        return out

    def _HadPow(self, e):
        return self(e.arg) ** as_float(e.exp)

    def _Power(self, e):
        base = self(e.arg)
        if e.arg.shape == (1, 1):
            return base ** as_float(e.exp)
        if e.exp < 0 and np.all(np.isfinite(base)) and np.linalg.cond(base) > SINGULAR:
            raise Undefined(
                f"{_short(to_text(e.arg))} is singular where it is evaluated, so "
                f"{_short(to_text(e))} has no value there",
                hint="a matrix that is singular wherever it is defined (an outer product such "
                     "as xaᵀ has rank 1) has no inverse anywhere, and the function no value")
        return np.linalg.matrix_power(base, int(e.exp))

    def _Kron(self, e):
        return np.kron(self(e.args[0]), self(e.args[1]))

    def _Transpose(self, e):
        return self(e.arg).T

    def _Func(self, e):
        return ELEMENTWISE[e.name](self(e.arg))

    def _Trace(self, e):
        return np.array([[np.trace(self(e.arg))]])

    def _Det(self, e):
        return np.array([[np.linalg.det(self(e.arg))]])

    def _LogDet(self, e):
        return np.array([[np.linalg.slogdet(self(e.arg))[1]]])

    def _Norm(self, e):
        a = self(e.arg)
        value = np.abs(a).sum() if e.kind == "1" else np.sqrt((a * a).sum())
        return np.array([[value]])

    def _Sum(self, e):
        return np.array([[self(e.arg).sum()]])

    # eigenvalues of the symmetric part ½(A + Aᵀ): A itself where A is symmetric, and off the
    # symmetric matrices (a central difference along any V) the extension whose unstructured
    # gradient is qqᵀ
    def _Spectral(self, e):
        a = self(e.arg)
        if not np.all(np.isfinite(a)):            # no decomposition: no value (LAPACK raises)
            return np.array([[np.nan]])
        if e.kind in ("lmax", "lmin"):
            values = np.linalg.eigvalsh((a + a.T) / 2)
            return np.array([[values[-1] if e.kind == "lmax" else values[0]]])
        s = np.linalg.svd(a, compute_uv=False)
        return np.array([[s[0] if e.kind == "norm2" else s.sum()]])

    def _MatFunc(self, e):
        a = self(e.arg)
        return _expm(a) if e.name == "expm" else _logm(a)

    def _Frechet(self, e):
        a, direction = (self(x) for x in e.args)
        if e.name == "expm":
            return _expm_frechet(a, direction)
        return _logm_frechet(a, direction)

    def _Frechet2(self, e):
        a, first, second = (self(x) for x in e.args)
        return _frechet2(e.name, a, first, second)

    def _KronFrechet2(self, e):
        # column k: L_f(A, E, E_k) for the k-th unit direction E_k (column-major)
        a, first = (self(x) for x in e.args)
        n = a.shape[0]
        basis = np.eye(n * n)
        return np.stack([_frechet2(e.name, a, first, basis[:, k].reshape((n, n), order="F"))
                         .reshape(-1, order="F") for k in range(n * n)], axis=1)

    def _KronFrechet(self, e):
        a = self(e.arg)
        kron = _expm_kron(a if e.name == "expm" else _logm(a))
        # K_log(A) inverts K_exp(log A), since exp(log A) = A
        return kron if e.name == "expm" else np.linalg.inv(kron)

    def _SpectralFactor(self, e):
        a = self(e.arg)
        if not np.all(np.isfinite(a)):
            return np.full((self.dim(e.rows), self.dim(e.cols)), np.nan)
        if e.kind in ("qmax", "qmin"):
            vectors = np.linalg.eigh((a + a.T) / 2)[1]
            return vectors[:, -1:] if e.kind == "qmax" else vectors[:, :1]
        u, _, vt = np.linalg.svd(a, full_matrices=False)   # one SVD: u and v of one sign
        return {"umax": u[:, :1], "vmax": vt[:1].T, "polar": u @ vt}[e.kind]

    def _Frob(self, e):
        return np.array([[(self(e.args[0]) * self(e.args[1])).sum()]])

    def _Diag(self, e):
        return np.diag(self(e.arg)[:, 0])

    def _DiagOf(self, e):
        return np.diag(self(e.arg)).reshape(-1, 1).copy()

    def _Vec(self, e):
        return self(e.arg).reshape(-1, 1, order="F")

    def _Unvec(self, e):
        return self(e.arg).reshape((self.dim(e.rows), self.dim(e.cols)), order="F")

    def _Broadcast(self, e):
        return np.broadcast_to(self(e.arg), (self.dim(e.rows), self.dim(e.cols))).copy()

    def _UserFunc(self, e):
        return self(e.entrywise())

    def _Size(self, e):
        return np.array([[float(self.dim(e.dim))]])

    def _Mean(self, e):
        return self(e.arg).mean(axis=e.axis - 1, keepdims=True)

    def _Variance(self, e):
        return self(e.arg).var(axis=e.axis - 1, keepdims=True)

    def _LogSumExp(self, e):
        a = self(e.arg)
        top = a.max(axis=e.axis - 1, keepdims=True)
        return top + np.log(np.exp(a - top).sum(axis=e.axis - 1, keepdims=True))

    def _Softmax(self, e):
        a = self(e.arg)
        z = np.exp(a - a.max(axis=e.axis - 1, keepdims=True))
        return z / z.sum(axis=e.axis - 1, keepdims=True)

    def _LogSoftmax(self, e):
        return self(e.arg) - self._LogSumExp(e)

    def _Commutation(self, e):
        m, n = self.dim(e.params[0]), self.dim(e.params[1])
        k = np.zeros((m * n, m * n))
        for i in range(m):
            for j in range(n):
                k[i * n + j, j * m + i] = 1.0   # vec(Aᵀ)[i·n + j] = A[i, j] = vec(A)[j·m + i]
        return k

    def _D(self, e):
        raise TypeError("a differential has no value")

    def magnitude(self, e: Expr) -> float:
        """The largest entry, in absolute value, of e and of every value computed on the way to
        it: what the rounding errors of evaluating e scale with."""
        self(e)
        return max(float(np.abs(self.cache[n]).max(initial=0.0))
                   for n in _distinct_nodes([e], self.definitions) if n in self.cache)

    # -- a matrix applied to a block of columns, without forming it ----------------------------
    def apply(self, e: Expr, m: np.ndarray) -> np.ndarray:
        """e @ m, factor by factor: a vec-form Jacobian or Hessian built from Kronecker products,
        diagonals, commutation matrices and identities is never formed (it can be far larger
        than its factors). Anything else is evaluated as it stands, within the memory budget."""
        if isinstance(e, Identity):
            return m
        if isinstance(e, Zero):
            return np.zeros((self.dim(e.rows), m.shape[1]))
        if isinstance(e, Add):
            return sum(self.apply(a, m) for a in e.args)
        if isinstance(e, MatMul):
            scale = 1.0
            for a in reversed(e.args):
                if a.shape == (1, 1):
                    scale = scale * self(a)[0, 0]
                else:
                    m = self.apply(a, m)
            return scale * m
        if isinstance(e, Kron):
            # (A ⊗ B) vec(V) = vec(B V Aᵀ), and B V Aᵀ = (A (B V)ᵀ)ᵀ
            a, b = e.args
            columns = []
            for column in m.T:
                v = column.reshape((self.dim(b.cols), self.dim(a.cols)), order="F")
                columns.append(self.apply(a, self.apply(b, v).T).T.reshape(-1, order="F"))
            return np.stack(columns, axis=1)
        if isinstance(e, Diag):
            return self(e.arg) * m                      # Diag(v) m = v ∘ m, column by column
        if isinstance(e, Commutation):
            # K vec(A) = vec(Aᵀ) for an m×n matrix A
            rows, cols = (self.dim(d) for d in e.params)
            blocks = m.reshape((rows, cols, -1), order="F").transpose(1, 0, 2)
            return blocks.reshape((rows * cols, -1), order="F")
        if isinstance(e, Transpose) and (moved := _transpose_inward(e.arg)) is not None:
            return self.apply(moved, m)
        require_budget([e], self.sizes, "this factor", self.definitions)
        return self(e) @ m


# A condition number past which a matrix is singular to working precision: its inverse has
# no correct digit.
SINGULAR = 1e13


class Undefined(MatcalcError):
    """The expression has no value where it is evaluated (the inverse of a singular matrix)."""


def _stable_form(e: Expr) -> Expr:
    """e in the form whose evaluation does not cancel or overflow (stable.py), e itself if it
    is that form already: one rule at the node, its children being evaluated in their own."""
    for rule in STABLE_RULES:
        new = rule(e)
        if new != e:
            return new
    return e


def _expm(a: np.ndarray) -> np.ndarray:
    """The matrix exponential by its Taylor series, scaled to a norm of ¼ and squared back
    (the generated code uses Padé approximants: each checks the other)."""
    norm = np.abs(a).sum(axis=0).max(initial=0.0)
    if not np.isfinite(norm):                     # an overflowed argument: no value
        return np.full(a.shape, np.nan)
    halvings = int(np.ceil(np.log2(norm / 0.25))) if norm > 0.25 else 0
    a = a / 2.0 ** halvings
    term = out = np.eye(a.shape[0])
    for k in range(1, 20):
        term = term @ a / k
        out = out + term
    for _ in range(halvings):
        out = out @ out
    return out


def _expm_frechet(a: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """L_exp(A, E), the upper right block of exp([[A, E], [0, A]]) [Higham, Functions of
    Matrices, (3.16)], for E scaled to A's norm (L_exp is linear in E): a far larger E would
    set the number of squarings, and their rounding swamps L_exp (100-fold for an E of 10¹²¹)."""
    n = a.shape[0]
    size = np.abs(direction).sum(axis=0).max(initial=0.0)
    if size == 0 or not np.isfinite(size):
        return direction * 0.0 if size == 0 else np.full(a.shape, np.nan)
    c = max(np.abs(a).sum(axis=0).max(initial=0.0), 1.0) / size
    return _expm(np.block([[a, c * direction], [np.zeros_like(a), a]]))[:n, n:] / c


def _frechet2(name: str, a: np.ndarray, e: np.ndarray, f: np.ndarray) -> np.ndarray:
    """L_f(A, E, F): for expm the upper right block of L_exp([[A, E], [0, A]], I₂ ⊗ F), the
    derivative along F of L_exp(A, E) = the upper right block of exp([[A, E], [0, A]]); for
    logm, from L_exp(log A, L_log(A, E)) = E differentiated along F,
    −L_log(A, L_exp(log A, L_log(A, E), L_log(A, F)))."""
    n = a.shape[0]
    if name == "expm":
        # E scaled to A's norm (L_exp(A, E, F) is linear in E), as in _expm_frechet
        size = np.abs(e).sum(axis=0).max(initial=0.0)
        if size == 0 or not np.isfinite(size):
            return e * 0.0 if size == 0 else np.full(a.shape, np.nan)
        c = max(np.abs(a).sum(axis=0).max(initial=0.0), 1.0) / size
        zero = np.zeros_like(a)
        return _expm_frechet(np.block([[a, c * e], [zero, a]]),
                             np.block([[f, zero], [zero, f]]))[:n, n:] / c
    log_a = _logm(a)
    inner = _frechet2("expm", log_a, _logm_frechet(a, e), _logm_frechet(a, f))
    return -_logm_frechet(a, inner)


def _logm_frechet(a: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """L_log(A, E), inverting L_exp(log A, ·), since exp(log A) = A."""
    log_a, n = _logm(a), a.shape[0]
    basis = np.eye(n * n)
    columns = [_expm_frechet(log_a, basis[:, k].reshape((n, n), order="F"))
               .reshape(-1, order="F") for k in range(n * n)]
    solution = np.linalg.solve(np.stack(columns, axis=1), direction.reshape(-1, order="F"))
    return solution.reshape((n, n), order="F")


def _expm_kron(a: np.ndarray) -> np.ndarray:
    """K_exp(A), vec(L_exp(A, E)) = K_exp(A) vec(E): ∫₀¹ exp((1 − s)Aᵀ) ⊗ exp(sA) ds, the upper
    right block of exp([[Aᵀ ⊗ I, I], [0, I ⊗ A]]) [Van Loan 1978, Theorem 1]."""
    n = a.shape[0]
    if not np.all(np.isfinite(a)):
        return np.full((n * n, n * n), np.nan)
    big = np.eye(n * n)
    block = np.block([[np.kron(a.T, np.eye(n)), big], [np.zeros_like(big), np.kron(np.eye(n), a)]])
    return _expm(block)[:n * n, n * n:]


def _logm(a: np.ndarray) -> np.ndarray:
    """The principal logarithm of a diagonalizable matrix with no eigenvalue on the closed
    negative real axis, by its eigendecomposition. A real matrix with an eigenvalue there has no
    real logarithm: no value (the real part of the complex one, log|λ| for λ < 0, is another
    function, with another derivative). A symmetric a is taken by eigh, whose eigenvalues are
    real (eig gave a repeated −1 as −1 ± 1e-16i, off the axis) and eigenvectors orthonormal."""
    if not np.all(np.isfinite(a)):
        return np.full(a.shape, np.nan)
    if np.allclose(a, a.T, rtol=1e-12, atol=0):
        values, vectors = np.linalg.eigh(a)
        inverse = vectors.T
    else:
        values, vectors = np.linalg.eig(a)
        if np.linalg.cond(vectors) > SINGULAR:   # no eigenbasis (overflowed, or defective)
            return np.full(a.shape, np.nan)
        inverse = np.linalg.inv(vectors)
    size = np.abs(values)
    if size.min(initial=np.inf) * SINGULAR <= size.max(initial=0.0) or \
            np.any((np.imag(values) == 0) & (np.real(values) < 0)):
        # an eigenvalue lost in the rounding of the largest (expm(S) of a spread spectrum): its
        # logarithm has no correct digit; or one on the negative real axis
        return np.full(a.shape, np.nan)
    return ((vectors * np.log(values.astype(complex))) @ inverse).real


def _transpose_inward(e: Expr) -> Expr | None:
    """eᵀ with the transpose moved onto the factors, for the structured matrices ``apply`` knows:
    (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ, (AB)ᵀ = BᵀAᵀ, Diag(v)ᵀ = Diag(v), K_mnᵀ = K_nm; None for anything else."""
    if isinstance(e, Kron):
        return Kron(*(Transpose(a) for a in e.args))
    if isinstance(e, MatMul):
        return MatMul(*(a if a.shape == (1, 1) else Transpose(a) for a in reversed(e.args)))
    if isinstance(e, Add):
        return Add(*(Transpose(a) for a in e.args))
    if isinstance(e, (Diag, Identity)):
        return e
    if isinstance(e, Commutation):
        return Commutation(*reversed(e.params))
    if isinstance(e, Zero):
        return Zero(e.cols, e.rows)
    if isinstance(e, Transpose):
        return e.arg
    return None


def evaluate(e: Expr, env: dict, sizes: dict, definitions: dict | None = None) -> np.ndarray:
    return Evaluator(env, sizes, definitions)(e)


# --- the memory budget ---------------------------------------------------------------------------

# What one evaluation may hold: the Evaluator keeps every node's float64 array.
BUDGET = 256 * 2**20


class TooLarge(MatcalcError):
    """An evaluation that would exceed the memory budget (refused before anything is allocated)."""


def dense_bytes(exprs, sizes: dict, definitions: dict | None = None) -> int:
    """The bytes evaluating the trees holds: one float64 array per distinct node (a user
    function's entrywise body and the definitions' trees included)."""
    return 8 * sum(dim_value(n.rows, sizes) * dim_value(n.cols, sizes)
                   for n in _distinct_nodes(exprs, definitions or {}))


def require_budget(exprs, sizes: dict, what: str, definitions: dict | None = None,
                   hint: str = "") -> None:
    """Raise TooLarge, naming the largest array, if evaluating the trees exceeds the budget."""
    needed = dense_bytes(exprs, sizes, definitions)
    if needed <= BUDGET:
        return
    largest = max(_distinct_nodes(exprs, definitions or {}),
                  key=lambda n: dim_value(n.rows, sizes) * dim_value(n.cols, sizes))
    rows, cols = (dim_value(d, sizes) for d in largest.shape)
    raise TooLarge(f"{what} needs {format_bytes(needed)} (the largest array, "
                   f"{_short(to_text(largest))}, is {rows}×{cols}); the budget is "
                   f"{format_bytes(BUDGET)}", hint=hint)


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _distinct_nodes(exprs, definitions: dict) -> list:
    """The distinct nodes of the trees, a user function's entrywise body and the definitions'
    trees included."""
    def children(e):
        return (*e.args, *((e.entrywise(),) if isinstance(e, UserFunc) else ()),
                *((definitions[e.name],) if isinstance(e, Var) and e.name in definitions else ()))
    return distinct_nodes(*exprs, children=children)



# --- random inputs suited to the expression's domain --------------------------------------------

def assign_sizes(exprs) -> dict:
    """Small, distinct sizes for the symbolic dimensions (distinct so that a transposed result
    cannot pass by accident)."""
    names: list = []
    for e in exprs:
        for node in walk(e):
            for d in node.shape:
                for part in (d.split("·") if isinstance(d, str) else ()):
                    if not part.isdigit() and part not in names:
                        names.append(part)
    sizes = {name: 3 + i for i, name in enumerate(names)}
    for node in (n for e in exprs for n in walk(e)):
        rows, cols = node.shape
        if isinstance(node, Var) and node.structure == "orthogonal" and rows in sizes \
                and cols in sizes and sizes[rows] < sizes[cols]:
            # orthonormal columns need at least as many rows
            sizes[rows], sizes[cols] = sizes[cols], sizes[rows]
    return sizes


def _needs(e: Expr, variables) -> tuple[set, set]:
    """(names that must be positive definite, names that must be entrywise positive)."""
    spd, positive = set(), set()
    for node in _nodes(e):
        if isinstance(node, (LogDet, Det)) or (isinstance(node, Power) and node.exp < 0
                                                and node.arg.shape != (1, 1)) \
                or isinstance(node, (MatFunc, Frechet, Frechet2, KronFrechet, KronFrechet2)) \
                and node.name == "logm":
            spd |= {v.name for v in walk(node.arg) if isinstance(v, Var)}
        if isinstance(node, Func) and node.name in ("log", "sqrt") \
                or isinstance(node, HadPow) and node.exp.denominator != 1:
            positive |= {v.name for v in walk(node.arg) if isinstance(v, Var)}
    return spd, positive


def _nodes(e: Expr):
    """The nodes of e, with each user function's entrywise body in place of the call."""
    for node in walk(e):
        yield node
        if isinstance(node, UserFunc):
            yield from _nodes(node.entrywise())


def random_inputs(expr: Expr, variables, sizes: dict, rng, definitions=None) -> dict:
    """Random arrays for the variables: positive definite where an inverse, a determinant or
    logm needs it (a vector there, as in logm(Diag(w)), positive), positive entries under log
    and sqrt, symmetric or one-hot where declared; kinks of relu/H/abs avoided."""
    everything = [expr] + list((definitions or {}).values())
    spd, positive = set(), set()
    for e in everything:
        s, p = _needs(e, variables)
        spd |= s
        positive |= p
    env = {}
    for v in variables:
        rows, cols = (dim_value(d, sizes) for d in v.shape)
        if (v.name in spd or v.structure == "spd") and rows == cols and rows > 1:
            a, b = rng.standard_normal((2, rows, cols))
            # positive definite and, unless declared symmetric, not symmetric: the symmetric
            # part I + aaᵀ/n keeps every eigenvalue in the right half-plane (det > 0, logm
            # real), and a symmetric draw hides a transpose (X⁻¹ for ∂ log det X/∂X = X⁻ᵀ)
            value = a @ a.T / rows + np.eye(rows) + (b - b.T) / (2 * np.sqrt(rows))
        elif v.name in positive or (v.name in spd and 1 in (rows, cols)):
            value = rng.uniform(0.5, 2.0, (rows, cols))
        else:
            value = rng.standard_normal((rows, cols))
        env[v.name] = _structured(value, v.structure, rng)
    return env


# How far from a kink (relu's 0, a repeated extreme eigenvalue …) a drawn point must be, and
# how large the values met evaluating f may be (beyond, another draw is preferred).
KINK_GAP = 1e-3
MODERATE = 1e8
# Scales tried in turn when a draw leaves the function's domain: log(b − Ax) needs Ax small
# beside b, log(xᵀx − 1) needs x large; the structures below are not scaled (they would break).
DOMAIN_SCALES = (1.0, 0.3, 0.1, 0.03, 3.0)
UNSCALED = ("onehot", "orthogonal", "stochastic")


def inputs_in_domain(expr: Expr, variables, sizes: dict, rng, definitions=None,
                     tries: int = 20, also=()) -> dict:
    """random_inputs where f has a finite value, also a little away (scaled by 1 ± 10⁻³, where
    differences step: logdet(expm(A)) is finite at the edge of expm's overflow and not beyond),
    and so have the expressions ``also`` (the derivatives checked: the inverse in the gradient
    of tr(logm(M)) may be singular to working precision where M's nested expm is finite), and
    its kinks are not near, and the values met on the way to f stay below MODERATE (nested
    exponentials at 10²⁵ leave logm and the differences few digits): each draw is tried at a
    few scales. If none fits, the finite draw farthest from a kink (λ_min(XᵀX + I) of a wide X
    has a repeated eigenvalue everywhere), then of the smallest values, is kept, or the first
    (the check then says what is not finite)."""
    env, best, best_key = {}, None, None
    for attempt in range(tries):
        drawn = random_inputs(expr, variables, sizes, rng, definitions)
        scale = DOMAIN_SCALES[attempt % len(DOMAIN_SCALES)]
        env = {v.name: drawn[v.name] if v.structure in UNSCALED else scale * drawn[v.name]
               for v in variables}
        around = [{v.name: env[v.name] if v.structure in UNSCALED else s * env[v.name]
                   for v in variables} for s in (1 - 1e-3, 1 + 1e-3)]
        finite = all(finite_at(expr, e, sizes, definitions) for e in (env, *around)) and \
            all(finite_at(a, env, sizes, definitions) for a in also)
        margin = kink_margin(expr, env, sizes, definitions) if finite else -np.inf
        size = Evaluator(env, sizes, definitions).magnitude(expr) if finite else np.inf
        key = (finite, min(margin, KINK_GAP), -max(size, MODERATE), margin)
        if margin > KINK_GAP and size <= MODERATE:
            return env
        if best_key is None or key > best_key:
            best, best_key = env, key
    return env if best is None else best


def finite_at(expr: Expr, env: dict, sizes: dict, definitions) -> bool:
    """Has f a finite value there (an inverse singular to working precision has none: another
    draw is tried)?"""
    with np.errstate(all="ignore"):
        try:
            return bool(np.all(np.isfinite(evaluate(expr, env, sizes, definitions))))
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, Undefined):
            return False


def _structured(value: np.ndarray, structure: str, rng) -> np.ndarray:
    """A random value made to keep its declared structure (an SPD value drawn SPD stays so)."""
    rows, cols = value.shape
    if structure in ("symmetric", "spd"):
        return (value + value.T) / 2
    if structure == "diagonal":
        return np.diag(np.diag(value))
    if structure == "orthogonal":                 # orthonormal columns (rows, if it is wide)
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return q if rows >= cols else q.T
    if structure == "onehot":                     # one 1 in each row (in a vector)
        return np.eye(rows)[:, [rng.integers(0, rows)]] if cols == 1 else \
            np.eye(cols)[rng.integers(0, cols, rows)]
    if structure == "stochastic":                 # positive rows (a vector's entries) of sum 1
        value = rng.uniform(0.2, 1.0, (rows, cols))
        return value / value.sum(axis=1 if cols != 1 else 0, keepdims=True)
    return value


def kink_margin(expr: Expr, env: dict, sizes: dict, definitions=None) -> float:
    """How far the arguments of relu/H/abs/sign and the entries under a 1-norm are from their
    kink at 0, and the spectral functions from where they are not differentiable: the gap of an extreme eigenvalue or the
    largest singular value to the next, the smallest singular value under a nuclear norm
    (inf if none)."""
    return closest_kink(expr, env, sizes, definitions)[0]


def closest_kink(expr: Expr, env: dict, sizes: dict, definitions=None) -> tuple:
    """kink_margin and the node (relu, H, abs, sign, a 1-norm or a spectral function) it is of
    (None if there is none)."""
    ev = Evaluator(env, sizes, definitions)
    margin, closest = np.inf, None
    nodes = list(_nodes(expr)) + [n for d in (definitions or {}).values() for n in _nodes(d)]
    for node in nodes:
        if isinstance(node, Func) and node.name in KINKED or \
                isinstance(node, Norm) and node.kind == "1":       # Σ|aᵢⱼ|: each |·| at 0
            gap = float(np.abs(ev(node.arg)).min())
        elif isinstance(node, Spectral):
            # on the scale of the matrix: beside an eigenvalue of 10²¹ (expm(xxᵀ + I) for a
            # large x) rounding parts a repeated e by 10⁵
            a = ev(node.arg)
            gap = spectral_gap(node.kind, a) / max(1.0, float(np.abs(a).max(initial=0.0)))
        else:
            continue
        if gap < margin:
            margin, closest = gap, node
    return margin, closest


def spectral_gap(kind: str, a: np.ndarray) -> float:
    """How far a is from where the spectral function ``kind`` has no derivative."""
    if kind in ("lmax", "lmin"):
        values = np.linalg.eigvalsh((a + a.T) / 2)
        gaps = np.diff(values)
        return float(gaps[-1] if kind == "lmax" else gaps[0]) if gaps.size else np.inf
    s = np.linalg.svd(a, compute_uv=False)
    if kind == "nuclear":
        return float(s[-1])
    return float(min(s[0], s[0] - s[1])) if s.size > 1 else float(s[0])


def directional_difference(f: Expr, wrt: Var, direction: np.ndarray, env: dict, sizes: dict,
                           definitions=None) -> tuple:
    """The derivative of f along V by extrapolated central differences, and its spread
    (joint_difference)."""
    return joint_difference(f, {wrt.name: direction}, env, sizes, definitions)


def joint_difference(f: Expr, directions: dict, env: dict, sizes: dict, definitions=None,
                     h: float = 1e-4, halvings: int = 6) -> tuple:
    """The derivative of f along a direction for each of several variables at once (name →
    direction): d f[V₁, V₂, …] = Σᵢ ∂f/∂Xᵢ : Vᵢ, by central differences (f(X + hV) −
    f(X − hV))/2h, extrapolated (``extrapolated``, on the scale of the largest value met
    evaluating f), and their spread: the largest over the entries."""
    def central(step):
        ahead = {name: env[name] + step * v for name, v in directions.items()}
        behind = {name: env[name] - step * v for name, v in directions.items()}
        return (evaluate(f, {**env, **ahead}, sizes, definitions)
                - evaluate(f, {**env, **behind}, sizes, definitions)) / (2 * step)

    with np.errstate(all="ignore"):
        scale = max(1.0, Evaluator(env, sizes, definitions).magnitude(f))
    best, spread = extrapolated(central, h, halvings, scale if np.isfinite(scale) else 1.0)
    return best, float(np.max(spread, initial=0.0))


# Successive extrapolations that differ by more than AGREED of the estimate (or of the scale of
# f's values) are not yet converging: rounding cannot part them so far, the step is longer than
# the scale on which f bends. The step is halved up to LONGEST_SEARCH times to find one that is not.
AGREED = 1e-3
LONGEST_SEARCH = 20


def extrapolated(central, h: float, halvings: int, scale: float = 1.0,
                 settled: float = 1e-12) -> tuple:
    """Central differences central(step), Richardson-extrapolated (error O(h⁴)). The step is
    halved until successive estimates agree (AGREED: cos(‖X‖²) for ‖X‖² of 10⁵ needs a step of
    10⁻⁶ where the first is 10⁻⁴; where a later one moves away by more than that, they agreed
    by chance and the search goes on), then at most ``halvings`` times more while they come closer
    (rounding makes them wander at smaller steps) or are not finite (a step that overflows f),
    until they differ by at most ``settled`` of the estimate (or of ``scale``, the size of the
    values met evaluating f, if larger), three estimates at least: two that agree may do so by
    chance where rounding dominates, their range no measure of it (focus seed 8810040: two
    agreed to 4e-9, each 2e-8 off). The estimate that moved least is kept, with the spread
    of the estimates from the first two that agree on, entry by entry (the range of each entry
    over them; inf where no two agree): the resolution of the difference, within which an
    answer cannot be told from it (rounding in f makes every estimate wander by about as much;
    the estimates of too long a step are no measure of it)."""
    previous, last, best, best_change = central(h), None, None, np.inf
    low = high = None                    # the range of the estimates, entry by entry
    ranged = 0                           # how many estimates it spans
    left = searching = LONGEST_SEARCH    # searching: the halvings the search had left
    while left > 0:
        left -= 1
        finer = central(h / 2)
        estimate = (4 * finer - previous) / 3
        h, previous = h / 2, finer
        if not np.all(np.isfinite(estimate)):
            continue                     # a step that overflows f (exp, expm) is halved
        change = np.inf if last is None else np.abs(estimate - last).max(initial=0.0)
        size = max(np.abs(estimate).max(initial=0.0), scale)
        if best is None and change <= AGREED * size:
            searching, left = left, halvings     # the first two that agree
            low, high = np.minimum(last, estimate), np.maximum(last, estimate)
            ranged = 2
        elif best is not None and change > AGREED * size:
            # a later one moves further than rounding can: the estimates agreed by chance, at a
            # step longer than the scale on which f bends (three of cos(s), s′ of 10⁶, agreed
            # to 0.1% while 100% off, random composition 9974661); the search goes on
            best, best_change, low, ranged, left = None, np.inf, None, 0, searching
        elif best is not None:
            low, high = np.minimum(low, estimate), np.maximum(high, estimate)
            ranged += 1
            if change >= best_change:
                break
        last = estimate
        if low is not None:
            best, best_change = estimate, change
            if change <= settled * size and ranged >= 3:
                break
    if best is None:
        return (estimate if last is None else last), np.full(np.shape(estimate), np.inf)
    return best, high - low


def finite_difference_jacobian(f: Expr, wrt: Var, env: dict, sizes: dict, definitions=None,
                               h: float = 1e-6) -> np.ndarray:
    """Central differences ∂vec f/∂vec X, one column per entry of X in column-major order."""
    base = env[wrt.name]
    columns = []
    for col in range(base.size):
        idx = np.unravel_index(col, base.shape, order="F")
        values = []
        for step in (h, -h):
            moved = base.copy()
            moved[idx] += step
            values.append(evaluate(f, {**env, wrt.name: moved}, sizes, definitions))
        columns.append(((values[0] - values[1]) / (2 * h)).reshape(-1, order="F"))
    return np.stack(columns, axis=1)


def finite_difference_gradient(f: Expr, wrt: Var, env: dict, sizes: dict, definitions=None,
                               h: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar f along every entry of the variable."""
    jac = finite_difference_jacobian(f, wrt, env, sizes, definitions, h)
    return jac.reshape(env[wrt.name].shape, order="F")


# Central differences with h = 1e-6 carry a rounding error near 1e-16·|f|/h = 1e-10·|f| per
# operation, where |f| is the size of the values computed on the way to f (Evaluator.magnitude),
# which can be far larger than f when terms cancel: a derivative is compared on the scale of at
# least RESOLUTION·|f|, so that an exact 0 (say the gradient of mean(softmax(A), 2), which is
# constant) is not failed for the differences' noise; the check's tolerance of 1e-6 then sits
# a hundred times above that noise.
RESOLUTION = 1e-2


def noise_floor(f_value) -> float:
    """The smallest scale on which derivatives of a function of this size are compared."""
    return RESOLUTION * max(1.0, float(np.abs(f_value).max(initial=0.0)))


def relative_scale(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """The scale a and b are compared on: the largest entry of either, at least floor."""
    return max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), floor)


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    return float(np.abs(a - b).max(initial=0.0) / relative_scale(a, b, floor))

