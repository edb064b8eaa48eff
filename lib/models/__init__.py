"""The course's generative models.

``lib.models.dcgan``: a small class-conditional DCGAN for 32×32 images whose checkpoints along
training (committed in ``data/gan``) are the "real generator" the metrics are tested on:
:class:`ConditionalGenerator`, :class:`ConditionalDiscriminator`, :func:`generate`,
:func:`load_generator`, :func:`checkpoint_steps`. ``python -m lib.models.train_dcgan`` retrains
them.
"""

from lib.models.dcgan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    checkpoint_steps,
    generate,
    load_generator,
)

__all__ = [
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "checkpoint_steps",
    "generate",
    "load_generator",
]
