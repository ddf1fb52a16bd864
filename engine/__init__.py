"""campusflow engine: SpiffWorkflow wrapper, persistence and audit. Never imports Flask."""
