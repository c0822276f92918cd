"""HTTP routes: health checks and exceptions."""
