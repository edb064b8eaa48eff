"""vid2vid (Wang et al. 2018) at course scale: label clips → video with flow warping.

The conditional video GAN learns p(x̃₁…x̃_T | s₁…s_T) = p(x₁…x_T | s₁…s_T) for a source sequence
s (here one-hot semantic label maps of the toy street, :func:`lib.datasets.street`) and the
real video x. The generator is **Markov** with L = 2 (:data:`HISTORY`): frame t is made from
the label maps s_{t−L}…s_t and the L previous *generated* frames x̃_{t−L}…x̃_{t−1},

    x̃_t = F(x̃_{t−L}^{t−1}, s_{t−L}^{t}) = (1 − m̃_t) ⊙ warp(x̃_{t−1}, w̃_t) + m̃_t ⊙ h̃_t,

with three heads of one network (:class:`Vid2VidGenerator`): the flow w̃_t (backward flow of
frame t in pixels, :func:`lib.video.warp`), the occlusion mask m̃_t ∈ [0, 1] and the
hallucinated image h̃_t. Where the previous frame holds the content (most of a panning street)
the warp copies it, which keeps the video consistent; the mask lights up where new content
appears (background uncovered behind a car, the frame's entering edge, a car's new face).

Pieces (Wang et al. 2018, "Video-to-Video Synthesis", §3 and the authors' code; pix2pixHD blocks
from :mod:`lib.models.pix2pixhd`):

- :class:`Vid2VidGenerator`: two encoders (labels s_{t−L}^t; previous frames) whose bottleneck
  features are **summed**, then two branches of residual blocks and an up-sampling decoder, as
  in the authors' code: one ends in the head h (7×7 conv, tanh), the other in the heads w
  (3×3 conv × W/51.2, i.e. the paper's ×20 at 1024 px wide) and m (3×3 conv, sigmoid).
  ``warp=False`` builds the "no flow warping" ablation (x̃_t = h̃_t, a per-frame pix2pixHD
  that still sees the previous frames); ``zero_flow=True`` the **zero-flow copy control**
  (no flow head: the mask blends h̃_t with the previous frame copied in place, so what warping
  adds over copying can be measured). **Coarse-to-fine**: ``Vid2VidGenerator(coarse=g1)``
  is a finer generator on top of a trained coarse one (pix2pixHD's local enhancer): its
  encoders work at twice the coarse resolution and down-sample once, their features are summed
  with the coarse generator's last feature maps (computed on 2×-pooled inputs), and its own
  branches and heads make the full-resolution frame.
- :func:`generate_clip`: the sequential roll-out over a whole clip (missing previous frames
  at t < L are zeros and the first frame is pure hallucination, m = 1); ``given=`` starts it
  from real frames instead, as the authors' training does.
- :class:`ImageDiscriminator`: multi-scale PatchGAN on (one-hot label, image), applied to x̃_t
  and to h̃_t. :class:`VideoDiscriminator`: PatchGANs on K = 3 consecutive frames plus the K−1
  reference flows between them, one per temporal scale (frames 1, 2, … apart);
  :func:`video_windows` cuts the windows and composes the flows for the skipped frames.
- :func:`generator_losses` / :func:`discriminator_losses` with the paper's weights
  (:data:`LOSS_WEIGHTS`): LSGAN 1, feature matching 10, perceptual ("VGG") 10, flow 10 (L1
  against the reference flow plus L1 of the real previous frame warped by w̃ — the paper's
  λ_W L_W), and two additions for the course's CPU budget: pix2pix's L1 to the real frame
  (10) and a mask target on *both* sides (0 where the reference flow is trusted, as in the
  authors' code, and 1 where it is not; :func:`flow_losses`). Flow supervision
  (:data:`FLOW_SOURCES`): ``"exact"`` (the street's rendered flow, occluded pixels left out),
  ``"dis"`` (OpenCV's DIS estimate, :func:`lib.video.estimate_flow`, standing in for
  FlowNet2), ``"none"`` (only the warp term, i.e. self-supervised flow) or ``"zero"`` (the
  copy control's).
- The measures of the notebook's ablation live in :mod:`lib.metrics.video`
  (``warping_error`` under the exact flow, ``per_frame_fid``); :func:`flow_colours` draws flows.
- :func:`load_vid2vid`: the committed trained generators, one per variant and seed
  (``data/vid2vid``, float16, sha256 checked; :func:`committed_seeds`);
  ``python -m lib.train vid2vid`` retrains them, ``python -m lib models vid2vid`` measures
  their bars (:mod:`lib.evaluation.model_bars`).

Images are float RGB in [0, 1] at every public function (the networks work in [−1, 1] inside).

The package's modules follow those pieces: ``networks`` (generator, roll-out, discriminators),
``flows`` (reference flows, windows, colours), ``losses`` and ``checkpoints``; every name is
importable from ``lib.models.vid2vid`` itself.
"""

from lib.models.vid2vid.checkpoints import RETRAIN as RETRAIN
from lib.models.vid2vid.checkpoints import (
    VARIANTS,
    VID2VID_DIR,
    committed_seeds,
    load_vid2vid,
    manifest_key,
)
from lib.models.vid2vid.flows import (
    CONFIDENCE_THRESHOLD as CONFIDENCE_THRESHOLD,
)
from lib.models.vid2vid.flows import (
    FLOW_SOURCES,
    compose_flow,
    flow_colours,
    reference_flow,
    video_windows,
)
from lib.models.vid2vid.losses import (
    LOSS_WEIGHTS,
    class_balanced_l1,
    discriminator_losses,
    flow_losses,
    generator_losses,
)
from lib.models.vid2vid.networks import (
    HISTORY,
    ImageDiscriminator,
    Vid2VidGenerator,
    VideoDiscriminator,
    generate_clip,
    one_hot_labels,
)

__all__ = [
    "HISTORY",
    "LOSS_WEIGHTS",
    "FLOW_SOURCES",
    "VARIANTS",
    "VID2VID_DIR",
    "Vid2VidGenerator",
    "ImageDiscriminator",
    "VideoDiscriminator",
    "one_hot_labels",
    "generate_clip",
    "video_windows",
    "compose_flow",
    "reference_flow",
    "generator_losses",
    "flow_losses",
    "class_balanced_l1",
    "discriminator_losses",
    "flow_colours",
    "load_vid2vid",
    "committed_seeds",
    "manifest_key",
]
