"""A local directory of workers, built only from the staff service's events.

The caseload and audit services reference workers without owning them: each keeps this read model (who
the worker is, when they are in post, their ASYE period, their dated terms), filled by an idempotent
consumer of the staff topic. A service declares the two tables on its own metadata by subclassing the
mixins of :mod:`~steadfast_shared.directory.models` (the class names ``DirectoryWorker`` and
``DirectoryTerms`` are fixed), and builds its repository and consumer with
:mod:`~steadfast_shared.directory.repository` and :mod:`~steadfast_shared.directory.projector`.
"""
