"""nce.models"""

from pathlib import Path

#: The default model shipped with the package (``nce train --default-model`` writes it,
#: ``nce predict`` loads it when no champion of the user's is registered).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"
