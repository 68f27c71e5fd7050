"""FER2013 facial-expression study: the library behind the DVC stages."""

# One fixed class order everywhere: the folder names of Kaggle's archive, alphabetical.
# The original fer2013.csv numbers them differently; sources map by name, never by index.
CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
IMAGE_SIZE = 48

# Banner written into every metrics file, plot title and report made from generated data.
SYNTHETIC_BANNER = "SYNTHETIC DATA (not FER2013)"


class FerError(Exception):
    """A user-facing error: the stage prints its one-line message and exits non-zero."""
