"""The command line: a thin shell over the Python API (``matcalc --help``)."""

from __future__ import annotations

import argparse
import os
import sys

EPILOG = """\
examples:
  matcalc '‖XWᵀ‖_F²' --wrt W
  matcalc 'norm2(X*W'"'"')^2' --wrt W --to numpy
  matcalc 'W = XXᵀ; Y = WX; ℓ = ‖Y‖_F' --wrt X --steps
  matcalc 'tr(AXB)' --wrt X --to latex --check

exit status: 0 success, 1 a --check failed, 2 bad input or an unsupported expression.
"""

UNICODE_PROBE = "∂ᵀ∘‖⁻¹ℓ∈ℝ"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="matcalc", description="Symbolic matrix calculus: gradients in textbook form, "
        "with the derivation, as text, LaTeX or NumPy code.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("expr", nargs="?", help="the expression (Unicode math, ASCII or LaTeX); "
                   "several statements separated by ';' or newlines")
    p.add_argument("-f", "--file", help="read the input from FILE ('-' for stdin)")
    p.add_argument("--wrt", action="append", default=[], metavar="X",
                   help="the variable to differentiate with respect to (repeatable)")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=SPEC",
                   help="declare a shape: X=64x1024, X=n×m, x=n (column vector), lam=scalar, "
                        "S='n x n symmetric'")
    p.add_argument("--to", choices=("text", "latex", "numpy", "json"), default="text",
                   help="output format (default: text)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--gradient", dest="kind", action="store_const", const="gradient",
                      help="the gradient of a scalar expression (the default for scalars)")
    kind.add_argument("--jacobian", dest="kind", action="store_const", const="jacobian",
                      help="the Jacobian in vec, index and map form (the default for "
                           "matrix-valued expressions)")
    kind.add_argument("--hessian", dest="kind", action="store_const", const="hessian",
                      help="the Hessian of a scalar expression, in vec and map form")
    p.set_defaults(kind="auto")
    p.add_argument("--steps", action="store_true", help="show the derivation, one rule a line")
    p.add_argument("--check", action="store_true",
                   help="compare with central finite differences on random inputs; "
                        "exit 1 if the relative error exceeds 1e-6")
    p.add_argument("--show", action="store_true",
                   help="print how the input was read (parentheses, shapes, conventions)")
    p.add_argument("--ascii", action="store_true", help="ASCII text instead of Unicode")
    p.add_argument("--standalone", action="store_true",
                   help="with --to latex: a complete LaTeX document")
    p.add_argument("--with-value", action="store_true",
                   help="with --to numpy: the functions return (f, grad)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = sys.stdout
    ascii_only = args.ascii or not _can_encode(out, UNICODE_PROBE)
    from .errors import MatcalcError
    from .printers import ascii_text
    try:
        text = _read_input(args)
        shapes = _shape_options(args.shape)
        if args.show:
            from .parse import parse
            from .show import describe
            print(describe(parse(text, shapes), ascii_only), file=out)
            if not args.wrt:
                return 0
        if not args.wrt:
            raise MatcalcError("which variable? name it with --wrt",
                               hint="e.g. matcalc 'tr(AXB)' --wrt X")
        from .api import derive
        result = derive(text, args.wrt, shapes, kind=args.kind)
        print(_render(result, args, ascii_only), file=out)
        if args.check:
            report = result.check()
            print(report if not ascii_only else ascii_text(str(report)), file=out)
            return 0 if report.ok else 1
        return 0
    except MatcalcError as err:
        message = err.render()
        if not _can_encode(sys.stderr, message):
            message = ascii_text(message)
        print(f"matcalc: error: {message}", file=sys.stderr)
        return 2
    except RecursionError:
        print("matcalc: error: the expression is nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (matcalc … | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _read_input(args) -> str:
    from .errors import MatcalcError
    if args.file and args.expr:
        raise MatcalcError("give the expression either as an argument or with -f, not both")
    if args.file == "-":
        return sys.stdin.read()
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                return fh.read()
        except OSError as err:
            raise MatcalcError(f"cannot read {args.file}: {err.strerror}") from None
    if args.expr is None:
        raise MatcalcError("no expression given", hint="matcalc '‖XWᵀ‖_F²' --wrt W, "
                           "or -f FILE; see matcalc --help")
    return args.expr


def _shape_options(specs: list[str]) -> dict:
    from .errors import MatcalcError
    shapes = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise MatcalcError(f"--shape {spec}: expected NAME=SPEC",
                               hint="e.g. --shape X=64x1024, --shape x=n, --shape lam=scalar")
        shapes[name.strip()] = value.strip()
    return shapes


def _render(result, args, ascii_only: bool) -> str:
    from .printers import ascii_text
    if args.to == "json":
        return result.to_json()
    if args.to == "numpy":
        return result.numpy_with_value() if args.with_value else result.numpy
    if args.to == "latex":
        body = result.steps_latex if args.steps else \
            "\\begin{gather*}\n" + result.latex.replace("\n", " \\\\\n") + "\n\\end{gather*}"
        if args.standalone:
            from .printers import latex_document
            return latex_document(body, result.notes)
        return body
    body = (result.steps_ascii if ascii_only else result.steps) if args.steps else \
        (result.ascii if ascii_only else result.text)
    notes = "".join(f"\nnote: {n}" for n in result.notes)
    text = body + notes
    return ascii_text(text) if ascii_only else text


def _can_encode(stream, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


if __name__ == "__main__":
    sys.exit(main())
