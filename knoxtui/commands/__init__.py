"""Command-line handlers, one module per area; each has `register(subparsers)`."""
