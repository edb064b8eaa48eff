"""CartoonGAN's data: procedural cartoons, the same scenes as photos, Canny and the
edge-smoothed negatives, unpaired batches and folders of a user's own images."""

from __future__ import annotations

import importlib
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lib.datasets import ImageSet, image_folder, load, photos
from lib.datasets.cartoon import (
    SCENE_TYPES,
    canny,
    cartoons,
    edge_band,
    edge_smooth,
    gaussian_blur,
    opencv_gaussian_kernel,
    photo_renders,
    unpaired_batches,
    unpaired_folders,
)
from lib.metrics.cartoon import colour_count, edge_sharpness, gradient_magnitude, texture_energy

scenes_module = importlib.import_module("lib.datasets.cartoon.scenes")


@pytest.fixture(scope="module")
def toons() -> tuple[ImageSet, torch.Tensor]:
    return cartoons(240, size=64, seed=0, return_outlines=True)


@pytest.fixture(scope="module")
def photo_crops() -> ImageSet:
    return photos(240, size=64, seed=0)


@pytest.fixture(scope="module")
def pairs() -> tuple[ImageSet, torch.Tensor, ImageSet]:
    """64 cartoons (with their outline ink) and the photo renders of the same scenes, 64²."""
    toon, ink = cartoons(64, size=64, seed=0, return_outlines=True)
    return toon, ink, photo_renders(64, size=64, seed=0)


# ------------------------------------------------------------------------------------ cartoons
@pytest.mark.parametrize("size", [64, 128, (48, 80), 16])
def test_cartoons_shape_range_labels(size):
    s = cartoons(12, size=size, seed=1)
    h, w = (size, size) if isinstance(size, int) else size
    assert s.images.shape == (12, 3, h, w) and s.images.dtype == torch.float32
    assert float(s.images.min()) >= 0 and float(s.images.max()) <= 1
    assert s.labels.dtype == torch.int64 and s.class_names == SCENE_TYPES
    assert int(s.labels.min()) >= 0 and int(s.labels.max()) < len(SCENE_TYPES)


def test_cartoons_all_scene_types_and_a_chosen_subset(toons):
    counts = toons[0].class_counts()
    assert (counts > 30).all()  # 240 images spread over the four types
    village = cartoons(10, seed=3, scenes=("village",))
    assert (village.labels == SCENE_TYPES.index("village")).all()


def _deterministic_and_independent_of_n_and_chunking(render, n: int, monkeypatch):
    a = render(n, seed=7)
    assert torch.equal(a.images, render(n, seed=7).images)
    assert not torch.equal(a.images, render(n, seed=8).images)
    head = render(5, seed=7)  # image k depends only on (seed, k)
    assert torch.equal(head.images, a.images[:5]) and torch.equal(head.labels, a.labels[:5])
    monkeypatch.setattr(scenes_module, "_PIXELS_PER_CHUNK", 3 * 64 * 64)
    torch.testing.assert_close(render(n, seed=7).images, a.images, atol=1e-6, rtol=0)
    return a


@pytest.mark.slow
def test_cartoons_deterministic_by_seed_and_independent_of_n_and_chunking(monkeypatch):
    _deterministic_and_independent_of_n_and_chunking(cartoons, 40, monkeypatch)


def test_cartoons_same_scene_at_any_size():
    small = cartoons(30, size=64, seed=2).images
    large = cartoons(30, size=128, seed=2).images
    # Scenes are drawn in resolution-independent units: the 128² render, averaged down, is the
    # 64² render up to anti-aliasing along the boundaries (measured 0.0014).
    assert float((F.avg_pool2d(large, 2) - small).abs().mean()) < 0.005


def test_cartoons_are_flat_compared_with_photos(toons, photo_crops):
    x, p = toons[0].images, photo_crops.images
    te_cartoon, te_photo = texture_energy(x), texture_energy(p)
    # Away from the edges a cartoon has no texture (measured medians 0.0011 vs 0.011).
    assert float(te_cartoon.median()) < 0.2 * float(te_photo.nanmedian())
    assert float(te_cartoon.max()) < 0.01
    # Few flat colours (measured means 20 vs 79 colours of 32 levels per channel).
    assert float(colour_count(x).float().mean()) < 0.5 * float(colour_count(p).float().mean())
    # Inside one shape every pixel has the same colour: most pixels equal their right neighbour.
    same = (x[..., 1:] == x[..., :-1]).all(1).float().mean()
    assert float(same) > 0.8


@pytest.mark.slow
def test_outlines_are_dark_and_their_width_is_controlled():
    s, ink = cartoons(40, size=128, seed=1, return_outlines=True)
    assert ink.shape == (40, 1, 128, 128) and float(ink.min()) >= 0 and float(ink.max()) <= 1
    assert float(s.images.amax(1, keepdim=True)[ink > 0.99].max()) < 0.03  # black ink
    area = {
        w: float(cartoons(40, size=128, seed=1, outline=w, return_outlines=True)[1].mean())
        for w in (0, 1, 2, 4)
    }
    assert area[0] == 0.0
    assert area[2] / area[1] == pytest.approx(2, rel=0.15)
    assert area[4] / area[2] == pytest.approx(2, rel=0.15)
    assert (
        float((cartoons(40, size=128, seed=1, outline=0).images.amax(1) < 0.1).float().mean())
        < 1e-3
    )
    assert s.info["outline"] == pytest.approx(128 / 48)


def test_shading_gives_two_or_three_tones_per_shape():
    shaded = cartoons(60, seed=4).images
    flat = cartoons(60, seed=4, shading=False).images
    changed = (shaded - flat).abs().amax(1)
    assert 0.02 < float((changed > 0.01).float().mean()) < 0.3  # cel shadows on part of a shape
    assert float((shaded <= flat + 1e-6).float().mean()) > 0.97  # mostly darker, some highlights


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0}, ValueError, "n: must be at least 1"),
        ({"size": 8}, ValueError, "at least 16×16"),
        ({"size": (32,)}, ValueError, "size: expected an int or"),
        ({"size": 64.0}, TypeError, "size: expected an int"),
        ({"outline": -1}, ValueError, "outline: expected a width"),
        ({"outline": "thin"}, TypeError, "outline: expected a width"),
        ({"scenes": ("city",)}, ValueError, "scenes: unknown value 'city'"),
        ({"scenes": "village"}, TypeError, "scenes: expected a sequence"),
        ({"scenes": ()}, ValueError, "at least one scene"),
        ({"shading": 1}, TypeError, "shading: expected True or False"),
    ],
)
def test_cartoons_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        cartoons(**{"n": 4, **kwargs})


# ------------------------------------------------------------------------------ photo renders
def _low_pass(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, x.shape[-2] // 8)  # 8×8 blocks of colour: layout and base colours


@pytest.mark.parametrize("size", [64, (48, 80), 16])
def test_photo_renders_shape_range_labels(size):
    s = photo_renders(12, size=size, seed=1)
    h, w = (size, size) if isinstance(size, int) else size
    assert s.images.shape == (12, 3, h, w) and s.images.dtype == torch.float32
    assert float(s.images.min()) >= 0 and float(s.images.max()) <= 1
    assert s.class_names == SCENE_TYPES and s.name == "photo_renders"
    assert torch.equal(s.labels, cartoons(12, size=size, seed=1).labels)  # the same scene types
    assert s.info["blur"] == pytest.approx(h / 128) and s.info["noise"] == 0.02
    forest = load("photo_renders", 6, seed=2, scenes=("forest",))
    assert (forest.labels == SCENE_TYPES.index("forest")).all()


def test_photo_renders_show_the_same_scenes_as_cartoons(pairs):
    toon, _, photo = pairs
    # Every shape is in the same place: which layer covers each pixel is identical in the two
    # styles, and has little to do with another seed's.
    render = scenes_module._render
    args = (24, 64, 64, 5, SCENE_TYPES, torch.device("cpu"))
    *_, layout = render(*args, style="cartoon", outline=4 / 3, regions=True)
    *_, photo_layout = render(*args, style="photo", blur=0.5, noise=0.02, regions=True)
    *_, other = render(24, 64, 64, 6, SCENE_TYPES, torch.device("cpu"), style="photo", regions=True)
    assert torch.equal(layout, photo_layout)
    assert float((layout == other).float().mean()) < 0.7  # measured 0.45
    # Same base colours in the same places: seen through 8×8 blocks a photo render is close to its
    # own cartoon (outlines and shading differ), far from the cartoon of another seed (measured
    # mean absolute differences 0.070 and 0.171), and closer to its own than to that one for
    # every image.
    same = (_low_pass(photo.images) - _low_pass(toon.images)).abs().mean((1, 2, 3))
    another = cartoons(64, size=64, seed=1).images
    far = (_low_pass(photo.images) - _low_pass(another)).abs().mean((1, 2, 3))
    assert float(same.mean()) < 0.1 and float(far.mean()) > 0.13
    assert float(same.mean()) < 0.6 * float(far.mean())
    assert bool((same < far).all())


def test_photo_renders_deterministic_and_independent_of_n_and_chunking(monkeypatch):
    a = _deterministic_and_independent_of_n_and_chunking(photo_renders, 24, monkeypatch)
    # The camera's blur and noise are the last steps: without them the render is still textured.
    clean = photo_renders(24, seed=7, blur=0, noise=0).images
    assert 0.002 < float((clean - a.images).abs().mean()) < 0.03
    assert float(texture_energy(clean).mean()) > 3 * float(
        texture_energy(cartoons(24, seed=7)).mean()
    )


def test_photo_renders_have_no_outlines(pairs):
    toon, ink, photo = pairs
    outline = (ink > 0.5)[:, 0]
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)

    def dark(x):
        return x.amax(1) < 0.1

    # Half the cartoons' outline pixels are black ink (the rest anti-aliased); in the photo
    # renders those pixels are as bright as the shapes around them (measured luma 0.54 against
    # 0.57 for the cartoons drawn without outlines, 0.10 with them) and almost never dark.
    assert float(dark(toon.images)[outline].float().mean()) > 0.3
    assert float(dark(photo.images)[outline].float().mean()) < 0.01
    flat = cartoons(64, size=64, seed=0, outline=0).images
    on_line = (photo.images * luma).sum(1)[outline].mean()
    assert float(on_line) > 0.85 * float((flat * luma).sum(1)[outline].mean())


def test_style_statistics_separate_cartoons_from_photo_renders(pairs, photo_crops):
    """The marks of a cartoon, measured on the same 64 scenes in both styles (64², seed 0):
    measured means ± sd over images, cartoons against photo renders,

    * edge sharpness 0.291 ± 0.032 against 0.131 ± 0.015,
    * texture energy 0.0011 ± 0.0011 against 0.0123 ± 0.0019,
    * colour count 19.8 ± 6.0 against 99.6 ± 10.0,

    and the bundled photo crops 0.149, 0.0130 and 82: the renders look like photos to these
    statistics, and every render differs from its own cartoon in the photo's direction."""
    toon, _, photo = pairs
    stats = {
        "sharpness": (edge_sharpness, -1),  # lower in photos
        "texture": (texture_energy, 1),  # higher in photos
        "colours": (lambda x: colour_count(x).float(), 1),
    }
    for name, (measure, sign) in stats.items():
        c, p, real = (measure(x) for x in (toon.images, photo.images, photo_crops.images))
        assert not (c.isnan().any() or p.isnan().any()), name
        gap = sign * float(p.mean() - c.mean())
        spread = float(c.std() + p.std()) / 2
        assert gap > 3 * spread, (name, gap, spread)  # measured 5 to 9 times the spread
        assert bool((sign * (p - c) > 0).all()), name  # paired: every scene, both styles
        ratio = float(p.mean()) / float(real.nanmean())
        assert 0.5 < ratio < 2, (name, ratio)  # in the range of real photos


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0}, ValueError, "n: must be at least 1"),
        ({"size": 8}, ValueError, "at least 16×16"),
        ({"blur": -1}, ValueError, "blur: expected a σ"),
        ({"blur": 20}, ValueError, r"blur: expected a σ in pixels in \[0, 8\]"),
        ({"blur": "soft"}, TypeError, "blur: expected a σ"),
        ({"noise": 0.7}, ValueError, "noise: expected a noise level"),
        ({"noise": float("nan")}, ValueError, "noise: expected a noise level"),
        ({"noise": True}, TypeError, "noise: expected a noise level"),
        ({"scenes": ("city",)}, ValueError, "scenes: unknown value 'city'"),
        ({"scenes": "forest"}, TypeError, "scenes: expected a sequence"),
    ],
)
def test_photo_renders_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        photo_renders(**{"n": 4, **kwargs})


def test_photo_renders_on_device_match_cpu(device):
    cpu = photo_renders(12, seed=3)
    dev = photo_renders(12, seed=3, device=device)
    assert dev.images.device.type == device
    torch.testing.assert_close(dev.images.cpu(), cpu.images, atol=1e-4, rtol=0)


# --------------------------------------------------------------------------------- Canny
def _reference_canny(grey: np.ndarray, low: int, high: int) -> np.ndarray:
    """A straightforward per-pixel Canny (OpenCV's rules) with a stack-based hysteresis."""
    h, w = grey.shape
    g = np.pad(grey.astype(np.int64), 1, mode="edge")
    gx = np.zeros((h, w), np.int64)
    gy = np.zeros((h, w), np.int64)
    for r in range(h):
        for c in range(w):
            win = g[r : r + 3, c : c + 3]
            gx[r, c] = (win[:, 2] - win[:, 0]) @ np.array([1, 2, 1])
            gy[r, c] = np.array([1, 2, 1]) @ (win[2] - win[0])
    m = np.pad(np.abs(gx) + np.abs(gy), 1)
    state = np.zeros((h, w), np.int64)  # 0 no, 1 candidate, 2 edge
    stack = []
    for r in range(h):
        for c in range(w):
            v = m[r + 1, c + 1]
            if v <= low:
                continue
            ax, ay = abs(gx[r, c]), abs(gy[r, c])
            if ay * 2**15 < ax * 13573:
                ok = v > m[r + 1, c] and v >= m[r + 1, c + 2]
            elif ay * 2**15 > ax * 13573 + ax * 2**16:
                ok = v > m[r, c + 1] and v >= m[r + 2, c + 1]
            elif gx[r, c] * gy[r, c] >= 0:
                ok = v > m[r, c] and v > m[r + 2, c + 2]
            else:
                ok = v > m[r, c + 2] and v > m[r + 2, c]
            if ok:
                state[r, c] = 2 if v > high else 1
                if v > high:
                    stack.append((r, c))
    while stack:
        r, c = stack.pop()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and state[rr, cc] == 1:
                    state[rr, cc] = 2
                    stack.append((rr, cc))
    return state == 2


def test_canny_matches_a_per_pixel_reference():
    gen = torch.Generator().manual_seed(0)
    blocks = torch.rand(3, 1, 6, 7, generator=gen)
    x = F.interpolate(blocks, size=(24, 28), mode="bilinear", align_corners=False)
    x = (x + 0.05 * torch.rand(x.shape, generator=gen)).clamp(0, 1)
    ours = canny(x, 60, 140)
    for i in range(3):
        grey = (x[i, 0] * 255).round().numpy().astype(np.int64)
        expected = _reference_canny(grey, 60, 140)
        assert expected.sum() > 20
        np.testing.assert_array_equal(ours[i, 0].numpy(), expected)


def test_canny_equals_opencv(toons, photo_crops):
    cv2 = pytest.importorskip("cv2")
    for x in (toons[0].images[:60], photo_crops.images[:60], cartoons(8, size=128).images):
        q = (x * 255).round().byte().permute(0, 2, 3, 1).numpy()
        expected = np.stack(
            [cv2.Canny(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), 100, 200) > 0 for im in q]
        )
        np.testing.assert_array_equal(canny(x)[:, 0].numpy(), expected)


def test_canny_finds_the_outlines(toons):
    s, ink = toons
    edges = canny(s.images)
    outline = ink > 0.5
    near = F.max_pool2d(edges.float(), 3, stride=1, padding=1) > 0
    recall = float((near & outline).sum() / outline.sum())
    assert recall > 0.95  # measured 0.973 within one pixel
    band = edge_band(s.images)
    assert float((band & outline).sum() / outline.sum()) > 0.995  # measured 0.9998


# ------------------------------------------------------------------------------ edge smoothing
def _reference_smooth(image: np.ndarray, band: np.ndarray) -> np.ndarray:
    """The reference code's loop: every pixel in the band gets the 5×5 Gaussian of its
    reflect-padded neighbourhood."""
    g = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16
    kernel = np.outer(g, g)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    out = image.copy()
    for r, c in zip(*np.nonzero(band), strict=True):
        for ch in range(image.shape[0]):
            out[ch, r, c] = np.sum(padded[ch, r : r + 5, c : c + 5] * kernel)
    return out


def test_edge_smooth_matches_the_per_pixel_reference():
    s = cartoons(2, size=32, seed=5)
    smooth, band = edge_smooth(s.images, return_mask=True)
    for i in range(2):
        expected = _reference_smooth(s.images[i].double().numpy(), band[i, 0].numpy())
        np.testing.assert_allclose(smooth[i].double().numpy(), expected, atol=1e-6)


def test_edge_smooth_changes_only_the_band_and_softens_it(toons):
    x = toons[0].images
    smooth, band = edge_smooth(x, return_mask=True)
    assert smooth.shape == x.shape and smooth.dtype == x.dtype
    changed = (smooth != x).any(1, keepdim=True)
    assert not bool((changed & ~band).any())  # outside the band: bit for bit the input
    assert float((changed & band).sum() / band.sum()) > 0.9
    assert torch.equal(band, edge_band(x))
    edges = canny(x)
    before, after = edge_sharpness(x, edges), edge_sharpness(smooth, edges)
    assert bool((after < before).all())
    assert float(after.mean()) < 0.6 * float(before.mean())  # measured 0.29 → 0.13
    # The band is wide enough to soften the outlines: fewer dark pixels survive.
    assert float((smooth.amax(1) < 0.1).float().mean()) < 0.5 * float(
        (x.amax(1) < 0.1).float().mean()
    )


def test_edge_smooth_equals_the_opencv_pipeline(toons):
    cv2 = pytest.importorskip("cv2")
    x = toons[0].images[:12]
    smooth = edge_smooth(x)
    gauss = cv2.getGaussianKernel(5, 0)
    for i in range(len(x)):
        image = x[i].permute(1, 2, 0).double().numpy()
        grey = cv2.cvtColor(
            (x[i] * 255).round().byte().permute(1, 2, 0).numpy(), cv2.COLOR_RGB2GRAY
        )
        band = cv2.dilate(cv2.Canny(grey, 100, 200), np.ones((5, 5), np.uint8)) > 0
        blurred = cv2.filter2D(image, -1, gauss @ gauss.T, borderType=cv2.BORDER_REFLECT_101)
        expected = np.where(band[..., None], blurred, image)
        np.testing.assert_allclose(smooth[i].permute(1, 2, 0).double().numpy(), expected, atol=1e-6)


def test_opencv_gaussian_kernels_and_blur():
    cv2 = pytest.importorskip("cv2")
    for size in (1, 3, 5, 7, 9, 11, 13):
        expected = cv2.getGaussianKernel(size, 0)[:, 0]
        np.testing.assert_allclose(opencv_gaussian_kernel(size).numpy(), expected, atol=1e-7)
    x = torch.rand(2, 3, 9, 11, generator=torch.Generator().manual_seed(1))
    g = cv2.getGaussianKernel(5, 0)
    expected = cv2.filter2D(
        x[1].permute(1, 2, 0).double().numpy(), -1, g @ g.T, borderType=cv2.BORDER_REFLECT_101
    )
    np.testing.assert_allclose(
        gaussian_blur(x)[1].permute(1, 2, 0).double().numpy(), expected, atol=1e-6
    )


def test_edge_smooth_on_an_image_set_and_grey_images():
    s = cartoons(6, seed=2)
    out = edge_smooth(s)
    assert isinstance(out, ImageSet) and out.name == "cartoons-smoothed"
    assert torch.equal(out.labels, s.labels) and out.info["edge_smooth"]["blur"] == 5
    grey = s.images.mean(1, keepdim=True)
    assert edge_smooth(grey).shape == grey.shape


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x: edge_smooth(x[0]), ValueError, "4-D"),
        (lambda x: edge_smooth(x * 2), ValueError, r"\[0, 1\]"),
        (lambda x: edge_smooth(x.repeat(1, 2, 1, 1)), ValueError, "channel"),
        (lambda x: edge_smooth(x, blur=4), ValueError, "blur: expected an odd"),
        (lambda x: edge_smooth(x, dilate=0), ValueError, "dilate: must be at least 1"),
        (lambda x: edge_smooth(x[..., :2, :2]), ValueError, "at least 3×3"),
        (lambda x: edge_smooth(x[..., :4, :4], blur=9), ValueError, "blur: a 9×9 kernel"),
        (lambda x: canny(x, 200, 100), ValueError, "low: must not exceed high"),
        (lambda x: canny(x, -1, 100), ValueError, "low: expected a threshold"),
        (lambda x: canny(x, float("nan"), 100), TypeError, "low: expected a finite"),
        (lambda x: canny((x * 255).byte()), TypeError, "uint8"),
        (lambda x: texture_energy(x, x > 0.5), ValueError, "band: expected shape"),
        (lambda x: edge_sharpness(x, x[:, :1]), TypeError, "edges: expected a bool"),
        (lambda x: colour_count(x, levels=1), ValueError, "levels: must be at least 2"),
        (lambda x: opencv_gaussian_kernel(4), ValueError, "size: expected an odd"),
    ],
)
def test_edge_functions_bad_inputs(call, error, match):
    x = cartoons(2, size=16, seed=0).images
    with pytest.raises(error, match=match):
        call(x)


def test_gradient_magnitude_units():
    ramp = torch.linspace(0, 0.5, 11).view(1, 1, 1, 11).expand(1, 3, 9, 11).contiguous()
    g = gradient_magnitude(ramp)
    torch.testing.assert_close(g[..., 1:-1], torch.full_like(g[..., 1:-1], 0.05))


def test_on_device_matches_cpu(device):
    cpu, cpu_ink = cartoons(24, seed=3, return_outlines=True)
    dev, dev_ink = cartoons(24, seed=3, device=device, return_outlines=True)
    assert dev.images.device.type == device
    torch.testing.assert_close(dev.images.cpu(), cpu.images, atol=1e-4, rtol=0)
    torch.testing.assert_close(dev_ink.cpu(), cpu_ink, atol=1e-4, rtol=0)
    x = cpu.images
    assert torch.equal(canny(x.to(device)).cpu(), canny(x))
    torch.testing.assert_close(edge_smooth(x.to(device)).cpu(), edge_smooth(x), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_timing_report(toons):
    start = time.perf_counter()
    s = cartoons(1000, size=64, seed=11)
    render = time.perf_counter() - start
    start = time.perf_counter()
    edge_smooth(s.images)
    smooth = time.perf_counter() - start
    start = time.perf_counter()
    photo_renders(1000, size=64, seed=11)
    photo = time.perf_counter() - start
    print(
        f"\ncartoons: 1,000 at 64x64 rendered in {render:.2f} s, edge-smoothed in {smooth:.2f} s; "
        f"the same scenes as photo renders in {photo:.2f} s"
    )


# --------------------------------------------------------------------------- unpaired sides
def test_unpaired_batches_shapes_determinism_and_alignment():
    a = torch.arange(10.0).view(10, 1, 1, 1)
    b = torch.arange(100.0, 113.0).view(13, 1, 1, 1)
    pairs = list(unpaired_batches((a, -a), b, batch_size=4, seed=3, epochs=2))
    assert len(pairs) == 2 * (10 // 4)
    for (xa, xa_neg), xb in pairs:
        assert xa.shape == (4, 1, 1, 1) and xb.shape == (4, 1, 1, 1)
        assert torch.equal(xa_neg, -xa)  # an aligned pair stays aligned
    again = list(unpaired_batches((a, -a), b, batch_size=4, seed=3, epochs=2))
    assert all(
        torch.equal(p[0][0], q[0][0]) and torch.equal(p[1], q[1])
        for p, q in zip(pairs, again, strict=True)
    )
    epoch1 = torch.cat([p[0][0] for p in pairs[:2]]).flatten()
    assert len(set(epoch1.tolist())) == 8  # no repeats within an epoch
    # Which a meets which b changes between epochs (the sides are shuffled independently).
    meet = [
        {(int(u), int(v)) for u, v in zip(p[0][0].flatten(), p[1].flatten(), strict=True)}
        for p in pairs
    ]
    assert meet[0] | meet[1] != meet[2] | meet[3]
    tail = list(unpaired_batches(a, b, batch_size=4, drop_last=False))
    assert [len(t[0]) for t in tail] == [4, 4, 2]


def test_unpaired_batches_with_image_sets_and_forever():
    c, p = cartoons(6, seed=0), photos(9, size=64, seed=0)
    stream = unpaired_batches(c, p, batch_size=3, epochs=None)
    batches = [next(stream) for _ in range(5)]
    assert all(x.shape == (3, 3, 64, 64) and y.shape == (3, 3, 64, 64) for x, y in batches)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"a": [1, 2]}, TypeError, "a: expected an ImageSet"),
        ({"b": (torch.zeros(3, 1, 2, 2), torch.zeros(4, 1, 2, 2))}, ValueError, "same length"),
        ({"batch_size": 0}, ValueError, "batch_size: must be at least 1"),
        ({"batch_size": 9}, ValueError, "more than the shorter side"),
        ({"epochs": 0}, ValueError, "epochs: must be at least 1"),
    ],
)
def test_unpaired_batches_bad_inputs(kwargs, error, match):
    args = {"a": torch.zeros(5, 1, 2, 2), "b": torch.zeros(8, 1, 2, 2), **kwargs}
    with pytest.raises(error, match=match):
        next(unpaired_batches(args.pop("a"), args.pop("b"), **args))


# ------------------------------------------------------------------------------- folders
def _write(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _striped(h: int, w: int) -> np.ndarray:
    """Red left third, green middle, blue right third."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 3, 0] = 255
    a[:, w // 3 : 2 * w // 3, 1] = 255
    a[:, 2 * w // 3 :, 2] = 255
    return a


def test_unpaired_folders_loads_crops_and_resizes(tmp_path):
    frames, pics = tmp_path / "anime", tmp_path / "photos"
    _write(frames / "f000.png", _striped(90, 270))  # 3:1 frame: only the green third survives
    _write(frames / "f001.png", _striped(60, 60))
    _write(frames / "scene2" / "f002.jpg", np.full((40, 50, 3), 200, np.uint8))
    for k in range(3):
        _write(pics / f"p{k}.png", np.full((30 + 10 * k, 45, 3), 40 * k, np.uint8))
    cartoon_set, photo_set = unpaired_folders(frames, pics, size=32)
    assert cartoon_set.images.shape == (3, 3, 32, 32) and photo_set.images.shape == (3, 3, 32, 32)
    assert cartoon_set.labels is None and photo_set.labels is None
    assert cartoon_set.name == "cartoons" and photo_set.name == "photos"
    centre = cartoon_set.images[0]
    assert float(centre[1].mean()) > 0.9 and float(centre[0].mean()) < 0.05  # green, no red
    stretched, _ = unpaired_folders(frames, pics, size=(16, 24), crop=False)
    assert stretched.images.shape == (3, 3, 16, 24)
    assert float(stretched.images[0, 0].mean()) > 0.25  # without the crop all thirds remain
    # The loaded cartoons go straight into the edge-smoothing recipe.
    assert edge_smooth(cartoon_set.images).shape == cartoon_set.images.shape


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        unpaired_folders(tmp_path / "nowhere", tmp_path, size=32)
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "pics" / "a.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="holds no image files"):
        unpaired_folders(tmp_path / "empty", tmp_path / "pics", size=32)
    with pytest.raises(TypeError, match="size: expected an int"):
        unpaired_folders(tmp_path / "pics", tmp_path / "pics", size=None)
    with pytest.raises(ValueError, match="crop: centre-cropping needs a target size"):
        image_folder(tmp_path / "pics", crop=True)
    (tmp_path / "pics" / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="not images"):
        unpaired_folders(tmp_path / "pics", tmp_path / "pics", size=8)
    a, _ = unpaired_folders(tmp_path / "pics", tmp_path / "pics", size=8, skip_bad=True)
    assert a.images.shape == (1, 3, 8, 8)
