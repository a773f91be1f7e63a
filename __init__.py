"""genlens: see what a black-box image classifier has learned, with generative models.

One import package, laid out over the repository's top-level folders:

* :mod:`genlens.core`: the pure-PyTorch library (models, data, saliency, featviz, generative,
  training, the zoo of shipped models).
* :mod:`genlens.evaluation`: saliency metrics, benchmark suites and the runner.
* :mod:`genlens.db`: the job and leaderboard database and the artifact store.
* :mod:`genlens.worker`: the Celery job service.
* :mod:`genlens.demo`: the CLI and the Gradio and Streamlit front ends.
* :mod:`genlens.catalog`: registers every built-in name (imported on the first registry lookup).

Importing ``genlens`` itself imports nothing heavy (no torch), so ``genlens --help`` is instant.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genlens")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
