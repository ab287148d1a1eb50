"""Hydra's core: plain types every layer shares. Imports nothing else of hydra."""
