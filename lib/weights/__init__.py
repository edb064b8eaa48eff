"""Weight files, in one place.

- Committed weights (:mod:`lib.weights.files`): safetensors files written atomically, listed in a
  checksummed ``manifest.json``, loaded without unpickling anything. One home for every
  committed network of the course (the course classifiers, the clip network, the DCGAN and the
  three video models).
- Weights a user brings (:mod:`lib.weights.hub`): pretrained checkpoints found in the torch hub
  cache folder or at a given path, never downloaded, their name's hash checked.
"""

from lib.weights.files import (
    MANIFEST,
    WEIGHTS_SUFFIX,
    half_precision,
    load_committed,
    manifest_entry,
    manifest_seeds,
    read_manifest,
    read_weights,
    seed_key,
    update_manifest,
    weights_file,
    write_weights,
)
from lib.weights.hub import (
    HASH_IN_NAME,
    check_name_hash,
    find_local_weights,
    hub_checkpoints_dir,
    load_state_dict,
    state_dict_problems,
)

__all__ = [
    "HASH_IN_NAME",
    "MANIFEST",
    "WEIGHTS_SUFFIX",
    "check_name_hash",
    "find_local_weights",
    "half_precision",
    "hub_checkpoints_dir",
    "load_committed",
    "load_state_dict",
    "manifest_entry",
    "manifest_seeds",
    "read_manifest",
    "read_weights",
    "seed_key",
    "state_dict_problems",
    "update_manifest",
    "weights_file",
    "write_weights",
]
