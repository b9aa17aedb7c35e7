"""The rule table: each node type's rules, in the order they are tried. One line per node type;
each rule is a named function whose docstring states its laws, in the module of its family."""

from __future__ import annotations

from ..ir import (
    Add,
    Broadcast,
    Commutation,
    Diag,
    DiagOf,
    Frechet,
    Frechet2,
    Frob,
    Func,
    Hadamard,
    HadPow,
    Identity,
    Kron,
    LogDet,
    LogSoftmax,
    LogSumExp,
    MatFunc,
    MatMul,
    Mean,
    Norm,
    Ones,
    Power,
    Softmax,
    Sum,
    Trace,
    Transpose,
    Unvec,
    UserFunc,
    Variance,
    Vec,
)
from .broadcast import broadcast_rules
from .chains import mul_flatten, transpose_push
from .engine import RULES
from .frobenius import frob_rules, norm_rules
from .functions import (axis_rules, frechet2_rules, frechet_rules, func_rules, logdet_rules,
                        matfunc_rules)
from .hadamard import diagonal_rules, hadamard_rules, hadpow_rules
from .powers import power_rules
from .reductions import mean_rules, reduce_rules
from .structure import (
    commutation_rules,
    identity_rules,
    kron_rules,
    mixed_product,
    structural_rules,
)
from .sums import add_collect, add_flatten, step_complement

RULES.update({
    Identity: (identity_rules,),
    Ones: (identity_rules,),
    Softmax: (axis_rules,),
    LogSoftmax: (axis_rules,),
    LogSumExp: (axis_rules,),
    Variance: (axis_rules,),
    Commutation: (commutation_rules,),
    Add: (add_flatten, add_collect, step_complement),
    MatMul: (mul_flatten, mixed_product),
    Kron: (kron_rules,),
    MatFunc: (matfunc_rules,),
    Frechet: (frechet_rules,),
    Frechet2: (frechet2_rules,),
    Transpose: (transpose_push,),
    Power: (power_rules,),
    Hadamard: (hadamard_rules, diagonal_rules),
    LogDet: (logdet_rules,),
    HadPow: (hadpow_rules,),
    Frob: (frob_rules,),
    Norm: (norm_rules,),
    Sum: (reduce_rules,),
    Trace: (reduce_rules,),
    Broadcast: (broadcast_rules,),
    Func: (func_rules,),
    UserFunc: (func_rules,),
    Mean: (mean_rules,),
    Diag: (structural_rules,),
    DiagOf: (structural_rules,),
    Vec: (structural_rules,),
    Unvec: (structural_rules,),
})
