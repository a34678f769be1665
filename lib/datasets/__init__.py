"""The data the project ships or generates: the SYNTHETIC BACI-like releases (``synthetic``),
the SYNTHETIC UK regions (``regions``), and how every output says whether its numbers come
from real or synthetic input (``provenance``).

Nothing here may pass synthetic numbers off as real: every table, page and figure made from them
says SYNTHETIC.
"""
