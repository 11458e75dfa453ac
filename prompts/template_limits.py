"""The template sandbox and its caps: bounded loops, bounded strings, bounded output.

Jinja2's ``SandboxedEnvironment`` refuses attribute access into Python internals
(``''.__class__``, ``cycler.__init__.__globals__``) and caps ``range()`` at 100 000, but it
lets a template build a gigabyte string (``'a' * 10**9``, ``'x'|center(10**9)``) or nest loops
into billions of iterations. This module closes those gaps:

- every ``for`` loop draws its iterations from one per-render budget (``MAX_LOOP_ITERATIONS``);
  the compiled template wraps each loop's iterable (an AST rewrite at compile time);
- ``*``, ``**``, ``+``, ``%`` and ``~`` are checked *before* they run, so no intermediate string
  or list can pass ``MAX_OUTPUT_CHARS``; so are the filters and ``str`` methods whose result can
  outgrow their input (widths, repeats, replacements, joins);
- the output is counted as it streams, across every message of a render.
"""

import contextvars
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_OUTPUT_CHARS = 1_000_000  # per render, all messages together (about 250k tokens)
MAX_LOOP_ITERATIONS = 100_000  # per render, all loops together
MAX_CALLS = 100_000  # per render: function, method and macro calls (a macro can recurse)
MAX_RENDER_SECONDS = 2.0  # per render: wall-clock, checked at every loop iteration and call
MAX_WIDTH = 10_000  # padding/width arguments of filters and format specs
MAX_INT_BITS = 10_000  # integers a template computes (2**10000 has ~3000 digits)
_LOOP_FILTER = "__parecer_loop_guard"
_CONCAT_FILTER = "__parecer_concat_guard"
# A width or precision of 10 000 or more, or one taken from an argument (``%*s``, ``{:{w}}``),
# in a printf-style or str.format format string.
_WIDE_FORMAT = re.compile(
    r"%[-#0 +]*(\d{5,}|\*)|%[-#0 +]*\d*\.(\d{5,}|\*)|\{[^{}]*:[^{}]*(\d{5,}|\{)"
)


class RenderLimitExceeded(Exception):
    """A template tried to do more work or build more text than a render may."""


class RenderBudget:
    """What one render has used so far: loop iterations and output characters."""

    def __init__(self) -> None:
        self.iterations = 0
        self.calls = 0
        self.output_chars = 0
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def step(self, *, call: bool = False) -> None:
        """Count one loop iteration (or call); refuse once the render has done too much."""
        if call:
            self.calls += 1
            if self.calls > MAX_CALLS:
                raise RenderLimitExceeded(f"more than {MAX_CALLS} calls")
        else:
            self.iterations += 1
            if self.iterations > MAX_LOOP_ITERATIONS:
                raise RenderLimitExceeded(f"more than {MAX_LOOP_ITERATIONS} loop iterations")
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(f"rendering took longer than {MAX_RENDER_SECONDS} s")

    @contextmanager
    def active(self) -> Iterator["RenderBudget"]:
        token = _budget.set(self)
        try:
            yield self
        finally:
            _budget.reset(token)

    def collect(self, chunks: Iterable[str]) -> str:
        """Join the streamed output, stopping as soon as the render's total passes the cap."""
        parts = []
        for chunk in chunks:
            self.output_chars += len(chunk)
            if self.output_chars > MAX_OUTPUT_CHARS:
                raise RenderLimitExceeded(f"output longer than {MAX_OUTPUT_CHARS} characters")
            parts.append(chunk)
        return "".join(parts)


_budget: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar(
    "parecer_render_budget", default=None
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_size(size: int, what: str) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise RenderLimitExceeded(f"{what} would be longer than {MAX_OUTPUT_CHARS}")


def _loop_guard(iterable: Any) -> Iterator[Any]:
    budget = _budget.get() or RenderBudget()
    for item in iterable:
        budget.step()
        yield item


def _concat_guard(parts: list) -> str:
    strings = [str(part) for part in parts]
    _check_size(sum(len(s) for s in strings), "a joined string (~)")
    return "".join(strings)


class _GuardLoopsAndConcat(NodeTransformer):
    """Route every loop iterable and every ``~`` through the guards above."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(
            nodes.List(node.nodes, lineno=node.lineno),
            _CONCAT_FILTER,
            [],
            [],
            None,
            None,
            lineno=node.lineno,
        )


def _int_args(args: tuple, kwargs: dict) -> list[int]:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]


def _passes_like(guarded, filter_func):
    """Keep the Jinja marker that makes a filter receive the environment or eval context."""
    if hasattr(filter_func, "jinja_pass_arg"):
        guarded.jinja_pass_arg = filter_func.jinja_pass_arg
    return guarded


def _guard_widths(name: str, filter_func):
    """A filter whose int arguments (widths, lengths) must stay under ``MAX_WIDTH``."""

    def guarded(*args, **kwargs):
        # format's arguments are values to print; its widths live in the format string.
        if name != "format" and any(abs(n) > MAX_WIDTH for n in _int_args(args, kwargs)):
            raise RenderLimitExceeded(f"'{name}' width above {MAX_WIDTH}")
        texts = [a for a in (*args, *kwargs.values()) if isinstance(a, str)]
        if name == "format" and texts and _WIDE_FORMAT.search(texts[0]):
            raise RenderLimitExceeded(f"format width above {MAX_WIDTH}")
        if name == "indent" and len(texts) > 1:  # a string width is repeated on every line
            lines = texts[0].count("\n") + 1
            _check_size(len(texts[0]) + lines * max(len(t) for t in texts[1:]), "indented text")
        return filter_func(*args, **kwargs)

    return _passes_like(guarded, filter_func)


def _replace_estimate(value, old="", new="", *_) -> int:
    text, old = str(value), str(old)
    occurrences = text.count(old) if old else len(text) + 1
    return len(text) + occurrences * len(str(new))


def _guarded_replace(filter_func):
    def guarded(eval_ctx, s, old, new, count=None):
        _check_size(_replace_estimate(s, old, new), "the result of 'replace'")
        return filter_func(eval_ctx, s, old, new, count)

    return _passes_like(guarded, filter_func)


def _guarded_join(filter_func):
    def guarded(eval_ctx, value, d="", attribute=None):
        items = list(value)
        _check_size(sum(len(str(i)) for i in items) + len(str(d)) * len(items), "a join")
        return filter_func(eval_ctx, items, d, attribute)

    return _passes_like(guarded, filter_func)


class CappedSandbox(SandboxedEnvironment):
    """A ``SandboxedEnvironment`` whose operators and string methods can't outgrow the caps."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) is not None and isinstance(times, int):
                    _check_size(_size(seq) * max(times, 0), "a repeated string")
            if (
                _is_int(left)
                and _is_int(right)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise RenderLimitExceeded(f"an integer above {MAX_INT_BITS} bits")
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > 1000:
                raise RenderLimitExceeded("an exponent above 1000")
            if _is_int(left) and _is_int(right) and left.bit_length() * right > MAX_INT_BITS:
                raise RenderLimitExceeded(f"an integer above {MAX_INT_BITS} bits")
        elif operator == "+":
            if _size(left) is not None and _size(right) is not None:
                _check_size(_size(left) + _size(right), "a joined string (+)")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise RenderLimitExceeded(f"format width above {MAX_WIDTH}")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # Jinja's own signature
        budget = _budget.get()
        if budget is not None:
            budget.step(call=True)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if any(abs(n) > MAX_WIDTH for n in _int_args(args, kwargs)) and name in {
                "center",
                "ljust",
                "rjust",
                "zfill",
                "expandtabs",
            }:
                raise RenderLimitExceeded(f"str.{name} width above {MAX_WIDTH}")
            if name == "replace" and len(args) >= 2:
                _check_size(_replace_estimate(owner, args[0], args[1]), "the result of replace")
            if name == "join" and args:
                items = list(args[0])
                _check_size(
                    sum(len(str(i)) for i in items) + len(owner) * len(items), "the result of join"
                )
                args = (items, *args[1:])
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and _WIDE_FORMAT.search(value.__self__):
            raise RenderLimitExceeded(f"format width above {MAX_WIDTH}")
        return wrapped

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        return _GuardLoopsAndConcat().visit(tree)


def _build() -> CappedSandbox:
    env = CappedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.pop("lipsum", None)  # generates text of any size; prompts have no use for it
    for name in ("center", "indent", "wordwrap", "truncate", "format", "batch", "slice", "tojson"):
        env.filters[name] = _guard_widths(name, env.filters[name])
    env.filters["replace"] = _guarded_replace(env.filters["replace"])
    env.filters["join"] = _guarded_join(env.filters["join"])
    env.filters[_LOOP_FILTER] = _loop_guard
    env.filters[_CONCAT_FILTER] = _concat_guard
    return env


environment = _build()
