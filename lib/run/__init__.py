"""What a job run is: its config and the settings resolved from it, the Spark session, the
stages in order (``workflow``), progress on stderr, the run log and the code fingerprints.

The only package that reads the whole ``Config``; it hands each stage its own settings.
"""
