"""One module per process of the daily step; pure functions over numpy arrays."""
