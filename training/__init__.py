"""The training system: config, data, losses, loop, CLI (core never imports this package)."""
