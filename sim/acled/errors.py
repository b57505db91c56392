"""The one error of `sim.acled`: bad input (a file, a column, a value), in one line."""

from __future__ import annotations


class AcledError(ValueError):
    """A problem with an ACLED or UCDP file, the actor mapping or an option (one line).

    The message names the file (and line where known), the field, what is wrong and what is
    allowed; the command line prints it and exits with code 2.
    """
