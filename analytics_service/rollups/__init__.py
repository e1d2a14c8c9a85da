"""Hourly rollups of the source collections and their incremental refresh."""
