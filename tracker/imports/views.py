"""Import routes (placeholder)."""
