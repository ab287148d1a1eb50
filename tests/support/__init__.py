"""Test helpers that are neither fixtures nor simulations of servers (generated data, scorers)."""
