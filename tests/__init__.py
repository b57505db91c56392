"""sahel-sim tests."""
