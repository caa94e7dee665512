"""The programme board's monthly report: every KPI at month end against its target, as HTML, PDF, XLSX
and CSV."""
