"""The metrics service: KPIs against the workforce strategy, from the staff, caseload and audit events."""
