"""Export routes (placeholder)."""
