"""The simulated board: hardware model (board.py), the world on it (scene and friends), and
the pyserial ``sim://`` handler (protocol_sim.py)."""
import rig.board  # noqa: F401  (registers the sim:// scheme)
