"""The projections (placeholder: the projector's tables are declared here)."""
