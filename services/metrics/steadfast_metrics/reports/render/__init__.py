"""The board report's renderers: pure functions of a :class:`~steadfast_metrics.reports.schemas.BoardReport`
(HTML, PDF, XLSX and CSV), one module each, and the words they share (:mod:`.text`)."""
