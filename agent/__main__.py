"""``python -m agent`` is the ``cx-agent`` command."""

from agent.cli import main

main()
