"""r1agent: turns an issue into a test-verified patch with DeepSeek-R1."""

__version__ = "0.1.0"
