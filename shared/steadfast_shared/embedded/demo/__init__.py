"""The demo council: a generated council that ``make run`` loads into an empty ``var/``.

:mod:`.council` builds it (deterministic: the same seed and day give the same records), as the CSV
extracts and API calls a council's own systems would send; :mod:`.loader` feeds it to running services
over HTTP and back-fills two years of weekly KPI snapshots.
"""

from steadfast_shared.embedded.demo.council import DemoCouncil, build_demo_council

__all__ = ["DemoCouncil", "build_demo_council"]
