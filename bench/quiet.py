"""The handlers' own output, kept out of the benchmark's report without taking it out of what is timed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def handler_output_sunk() -> Iterator[None]:
    """Send stdout to ``/dev/null`` while the handlers run (every thread's: ``sys.stdout`` is global).

    Powertools prints its EMF metric lines and structured logs there: with ``POWERTOOLS_METRICS_DISABLED`` a
    flush prints nothing but keeps the values, so every 100th value of a metric prints a 100-value blob. The
    lines are still serialised and written (to a real file, as Lambda's stdout is a pipe): the cost stays in
    the measured path; only the report loses them. The caller prints its figures after this block."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield
