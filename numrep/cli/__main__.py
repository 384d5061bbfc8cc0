"""``python -m numrep.cli``: the same as the ``numrep`` command."""

from numrep.cli import main

main()
