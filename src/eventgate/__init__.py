"""eventgate: the stream-processing backend of marketing-automation event types."""

__version__ = "0.1.0"
