"""The ``focusq`` command line: :mod:`~focusq.cli.main` dispatches to one module per family."""
