"""schemathesis's command line, with one CPython bug kept out of the way.

CPython 3.11 before 3.11.8 can raise `SystemError: AST constructor recursion
depth mismatch` from `ast.parse`. Hypothesis calls `ast.parse` on a module's
source only to describe a lambda for display, and the error then aborted a
whole schemathesis run whose cases had all passed (twice in a row in one CI
run). Here a description that hits it reads `lambda: <unknown>`, as Hypothesis
itself answers when a lambda's source cannot be read.

Usage: run_schemathesis.py <schemathesis arguments>
"""

import sys

from hypothesis.internal import lambda_sources
from schemathesis.cli import schemathesis

_describe_lambda = getattr(lambda_sources, "_lambda_description", None)


def _described_or_unknown(f, *args, **kwargs):
    try:
        return _describe_lambda(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


if _describe_lambda is not None:
    lambda_sources._lambda_description = _described_or_unknown

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
