"""Background jobs: training runs and evaluation jobs queued in the store, run by one worker."""
