"""Server interceptors, one concern per module."""
