"""Real hardware only: the wire format, the decoder, the serial link and port discovery.

The simulated board lives in ``rig.sim``; nothing here imports it. The command line registers
the ``sim://`` URL scheme with pyserial when a ``sim://`` port is given (``rig.cli.options``).
"""
