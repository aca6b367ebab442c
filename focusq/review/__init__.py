"""The end-of-day review, pure: no clock, no I/O, no Textual.

:mod:`~focusq.review.figures` turns a day's event log into a
:class:`~focusq.review.figures.Review`; :mod:`~focusq.review.export` draws one as text,
Markdown and SVG. The rows come from :mod:`focusq.store.ops.review`.
"""
