"""The command line: a thin shell over the Python API (``matcalc --help``)."""

from __future__ import annotations

import argparse
import io
import os
import shlex
import sys

from . import __version__

EPILOG = """\
examples:
  matcalc '‖XWᵀ‖_F²' --wrt W
  matcalc 'norm2(X*W'"'"')^2' --wrt W --to numpy
  matcalc 'W = XXᵀ; Y = WX; ℓ = ‖Y‖_F' --wrt X --steps
  matcalc 'tr(AXB)' --wrt X --to latex --check > result.tex

output: with --to text (the default) everything goes to stdout: the reading (--show), the
results with their notes, the --check report. With --to latex, numpy or json, stdout carries
only the LaTeX, the code or the JSON; the reading, the notes and the --check report go to
stderr. Errors always go to stderr.

An argument that starts with a minus and is no option is the expression (a negative
log-likelihood): matcalc '-sum(log(softmax(z)))' --wrt z; so is the argument after --:
matcalc --wrt z -- '-sum(log(softmax(z)))'.

exit status: 0 success, 1 a --check failed, 2 bad input or an unsupported expression,
3 an internal error (a bug in matcalc: please report it), 4 a --check inconclusive (an error
over the tolerance but within the resolution of the finite differences).
"""

UNICODE_PROBE = "∂ᵀ∘‖⁻¹ℓ∈ℝ"


class _ArgumentParser(argparse.ArgumentParser):
    def _print_message(self, message: str, file=None) -> None:
        # --help, usage and option errors in ASCII where the terminal cannot encode Unicode
        file = file or sys.stderr
        if message:
            from .printers import ascii_text
            file.write(message if _can_encode(file, message) else ascii_text(message))


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """The help at the terminal's width, found as shutil.get_terminal_size finds it but without
    loading shutil (2.5 ms of every start: each option added builds a formatter)."""

    def __init__(self, prog: str):
        try:
            width = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            width = 0
        if width <= 0:
            try:
                width = os.get_terminal_size(sys.__stdout__.fileno()).columns
            except (AttributeError, ValueError, OSError):
                width = 0
        super().__init__(prog, width=(width or 80) - 2)


def build_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(
        prog="matcalc", description="Symbolic matrix calculus: gradients in textbook form, "
        "with the derivation, as text, LaTeX or NumPy code.", epilog=EPILOG,
        formatter_class=_Formatter)
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
                   help="check the printed results and the generated NumPy functions against "
                        "central differences of f along random directions; exit 1 if a "
                        "relative error exceeds 1e-6 (4 if only within the resolution of the "
                        "differences: inconclusive)")
    p.add_argument("--show", action="store_true",
                   help="print how the input was read (parentheses, shapes, conventions)")
    p.add_argument("--quiet", action="store_true",
                   help="leave out the notes on how the input was read (the shapes of "
                        "undeclared names by convention, which reading was taken); keep the "
                        "notes the results need: where a derivative holds only almost "
                        "everywhere (relu′ = H), a total derivative through definitions, a "
                        "symmetric variable's gradient, symbols such as K")
    p.add_argument("--ascii", action="store_true",
                   help="ASCII only, as when the terminal cannot encode Unicode: text in the "
                        "ASCII dialect, docstrings of --to numpy in ASCII, JSON with \\u "
                        "escapes")
    p.add_argument("--standalone", action="store_true",
                   help="with --to latex: a complete LaTeX document")
    p.add_argument("--with-value", action="store_true",
                   help="with --to numpy: the functions return (f, grad)")
    p.add_argument("--version", action="version", version=f"matcalc {__version__}")
    return p


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The options, and the expression even where it starts with a minus (-tr(X), -sum(x),
    -hᵀx, -f(x)): an argument that starts with one '-' and is not exactly a short option
    (-h, -f) nor an option's value is the expression; an unknown option (--bogus) is still
    an error."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    takes_value = {o for a in parser._actions if a.nargs is None and a.option_strings
                   for o in a.option_strings}
    negative = None
    for i, token in enumerate(argv):
        if token == "--":
            break
        after_option = i > 0 and argv[i - 1] in takes_value
        if (token[:1] == "-" and token[:2] != "--" and token not in parser._option_string_actions
                and token != "-" and not after_option):
            negative = argv.pop(i)
            break
    args = parser.parse_args(argv)
    if negative is not None:
        if args.expr is not None:
            parser.error(f"two expressions: {negative!r} and {args.expr!r}")
        args.expr = negative
    return args

def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    out = sys.stdout
    # stdout carries only the artefact; with code, LaTeX or JSON, what a person reads goes aside
    info = sys.stdout if args.to == "text" else sys.stderr
    from .errors import MatcalcError
    text = None
    try:
        text = _read_input(args)
        shapes = _shape_options(args.shape)
        if args.show:
            _say(_reading(text, shapes, args.ascii or not _can_encode(info, UNICODE_PROBE)),
                 info)
            if not args.wrt:
                return 0
        if not args.wrt:
            raise MatcalcError("which variable? name it with --wrt",
                               hint="e.g. matcalc 'tr(AXB)' --wrt X")
        from .api import derive
        result = derive(text, args.wrt, shapes, kind=args.kind)
        print(_render(result, args, args.ascii or not _can_encode(out, UNICODE_PROBE)),
              file=out)
        if args.to != "text":
            _say("".join(f"note: {n}\n" for n in _notes(result, args)).rstrip("\n"), info,
                 args.ascii)
        if args.check:
            report = result.check()
            _say(str(report), info, args.ascii)
            return {"ok": 0, "failed": 1, "inconclusive": 4}[report.status]
        return 0
    except MatcalcError as err:
        _say(f"matcalc: error: {err.render()}", sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (matcalc … | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 — anything else is a bug in matcalc
        _say(_internal_error_message(err, text if args.file else None, argv), sys.stderr)
        return 3


def _reading(text: str, shapes: dict, ascii_only: bool) -> str:
    """How the input was read (--show)."""
    from .errors import guarded
    from .reader import parse
    from .show import describe
    return guarded(describe)(guarded(parse)(text, shapes), ascii_only)


def _internal_error_message(err: Exception, text: str | None, argv) -> str:
    """What a bug in matcalc prints instead of a traceback: what failed, the command (and the
    input when it came from a file), the version, where to report it."""
    from .errors import InternalError, shown
    cause = err.cause if isinstance(err, InternalError) else err
    where = f" in {err.where}" if isinstance(err, InternalError) else ""
    command = shlex.join(["matcalc", *(sys.argv[1:] if argv is None else argv)])
    lines = [f"matcalc: internal error{where}: {type(cause).__name__}: {cause}",
             f"This is a bug in matcalc {__version__}, not a problem with the input.",
             f"command: {command}"]
    if text is not None:
        lines.append(f"input: {text}")
    lines.append("Please report it to the matcalc maintainers with these lines.")
    return shown("\n".join(lines))


def _say(message: str, stream, ascii_only: bool = False) -> None:
    """Print a message for a person, in ASCII when asked or when the stream cannot take it."""
    from .printers import ascii_text
    if not message:
        return
    if ascii_only or not _can_encode(stream, message):
        message = ascii_text(message)
    print(message, file=stream)


def _read_input(args) -> str:
    from .errors import MatcalcError
    if args.file and args.expr:
        raise MatcalcError("give the expression either as an argument or with -f, not both")
    if args.file == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        return _read_text(io.TextIOWrapper(stdin, encoding="utf-8") if stdin else sys.stdin,
                          "the standard input")
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                return _read_text(fh, args.file)
        except OSError as err:
            raise MatcalcError(f"cannot read {args.file}: {err.strerror}") from None
    if args.expr is None:
        raise MatcalcError("no expression given", hint="matcalc '‖XWᵀ‖_F²' --wrt W, "
                           "or -f FILE; see matcalc --help")
    return args.expr


def _read_text(stream, name: str) -> str:
    """UTF-8 text, at most the input size limit: one character more is read to tell, never
    the whole of an endless or huge stream."""
    from .errors import MatcalcError
    from .reader import MAX_LENGTH
    try:
        text = stream.read(MAX_LENGTH + 1)
    except UnicodeDecodeError as err:
        raise MatcalcError(f"cannot read {name}: it is not UTF-8 text (byte "
                           f"0x{err.object[err.start]:02x})") from None
    if len(text) > MAX_LENGTH:
        raise MatcalcError(f"{name} is too long: the limit is {MAX_LENGTH:,} characters",
                           hint="split it into definitions")
    return text


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
        return result.to_json(ascii_only)
    if args.to == "numpy":
        code = result.numpy_with_value() if args.with_value else result.numpy
        # the code's names and strings are ASCII; its docstrings (∂f/∂λ) are spelled in ASCII
        return ascii_text(code) if ascii_only else code
    if args.to == "latex":
        from .printers import latex_document, latex_notes
        body = (result.steps_latex if args.steps else result.latex) + "\n\n" + \
            latex_notes(_notes(result, args))
        return latex_document(body) if args.standalone else body.rstrip("\n")
    body = (result.steps_ascii if ascii_only else result.steps) if args.steps else \
        (result.ascii if ascii_only else result.text)
    notes = "".join(f"\nnote: {n}" for n in _notes(result, args))
    text = body + notes
    return ascii_text(text) if ascii_only else text


def _notes(result, args) -> list[str]:
    return result.caveats if args.quiet else result.notes


def _can_encode(stream, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


if __name__ == "__main__":
    sys.exit(main())
