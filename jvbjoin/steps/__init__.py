"""The steps of a join or a server install: one module per step, each a small :class:`Step` class."""
