"""Every query focusq runs, written once as sans-I/O operations, one module per domain.

:mod:`~focusq.store.ops.base` holds the ``Op`` plumbing and the task record; callers
import the domain module they use (``tasks``, ``jobs``, ``lease``, ``focus``, ``inbox``,
``review``). This package imports none of them, so a quick command loads only its own.
"""
