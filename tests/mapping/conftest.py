import sys
from pathlib import Path

# netbuild.py sits beside the tests; importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
