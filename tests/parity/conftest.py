"""conftest.py - lets the parity tests import ref.py and make_float_graph.py from this folder."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
