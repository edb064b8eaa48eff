"""Weight files: written atomically, listed in a checksummed ``manifest.json``, loaded without
unpickling arbitrary objects. One home for every committed network of the course (the course
classifiers, the clip network, the DCGAN and the three video models).
"""

from lib.weights.files import (
    MANIFEST,
    half_precision,
    load_committed,
    manifest_entry,
    read_manifest,
    read_weights,
    update_manifest,
    write_weights,
)

__all__ = [
    "MANIFEST",
    "half_precision",
    "load_committed",
    "manifest_entry",
    "read_manifest",
    "read_weights",
    "update_manifest",
    "write_weights",
]
