"""``cx-agent validate`` run in this process: what a user would see, without a new
interpreter per call (the fuzz test calls it a thousand times)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from agent.cli import main
from tests.conftest import Result


def validate(path: Path) -> Result:
    """Exit code, stdout and stderr of ``cx-agent validate -c PATH``."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["cx-agent", "validate", "-c", str(path)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return Result(code, out.getvalue(), err.getvalue())
