"""``SSIMMapsWidget``: pick a distortion and its strength, see SSIM's luminance, contrast and
structure maps.

SSIM (Wang et al. 2004) compares two images window by window. With Gaussian-weighted local means
μ, standard deviations σ and covariance σxy, each pixel gets three terms (C3 = C2 / 2)::

    l = (2 μx μy + C1) / (μx² + μy² + C1)        luminance
    c = (2 σx σy + C2) / (σx² + σy² + C2)        contrast
    s = (σxy + C3) / (σx σy + C3)                structure          SSIM map = l · c · s

and SSIM is the mean of the map. The widget distorts one reference image with any of
:data:`lib.bench.distortions.DISTORTIONS` and shows the reference, the distorted image and the three
maps with their product. Choosing a distortion sets its strength so that the MSE equals a target
(by default Wang et al.'s 210 on 8-bit grey levels), so every distortion starts at the same MSE;
the slider then moves the strength and the button brings the MSE back to the target.
"""

from __future__ import annotations

import html
import math
import time
from typing import cast

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from lib._checks import check_choice, check_images, check_positive_int
from lib.bench.distortions import DISTORTIONS, STRENGTH_RANGES, distort, match_mse, mse
from lib.datasets import ImageSet
from lib.metrics import ms_ssim, ssim
from lib.widgets._panel import Panel, figure_png, selected

__all__ = ["MAP_NAMES", "SSIMMapsWidget"]

#: The maps the widget shows, in order (each an H'×W' tensor in :attr:`SSIMMapsWidget.maps`).
MAP_NAMES: tuple[str, ...] = ("luminance", "contrast", "structure", "ssim")
_GREY_LEVELS = 255.0
_SLIDER_STEPS = 400
_MAX_SEED = 2**31 - 1


def _check_number(value, name: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return value


class SSIMMapsWidget(Panel):
    """An ipywidgets panel: a distortion, its strength, and SSIM's maps for the result.

    Args:
        image: the reference image, C×H×W or 1×C×H×W float in [0, 1] (C = 1 or 3), or an
            ImageSet (its first image is used). Grey images show SSIM as in the paper; colour
            images get one map per channel, shown averaged over the channels.
        distortion: the one selected at first, from :data:`lib.bench.distortions.DISTORTIONS`.
        strength: its first strength (default: the strength that gives the target MSE).
        target_mse_8bit: the MSE the button (and a change of distortion) matches, in 8-bit grey
            levels² (MSE on [0, 1] images × 255²); 210 as in Wang et al. (2004, Fig. 2).
        seed: seed of the random distortions (noise, salt-and-pepper), an editable box.
        centre: where ``"patch"`` puts its black square (row, column as fractions).
        win_size: SSIM's Gaussian window size (11 in the paper; at most the image's short side).

    ``results`` holds the last numbers as plain Python: the setting, ``mse`` (on [0, 1]),
    ``mse_8bit``, ``psnr`` (dB), ``ssim``, the means of the three maps, the SSIM map's minimum,
    and ``ms_ssim`` (``None`` when the image is too small for five scales). ``maps`` holds the
    four maps as H'×W' CPU tensors (:data:`MAP_NAMES`), ``distorted`` the distorted image, and
    ``widget`` the container to display (the object displays itself as the last value of a cell).
    Changing the dropdown, the slider or the seed recomputes once; :meth:`update` by hand.
    """

    def __init__(
        self,
        image: torch.Tensor | ImageSet,
        *,
        distortion: str = "blur",
        strength: float | None = None,
        target_mse_8bit: float = 210.0,
        seed: int = 0,
        centre: tuple[float, float] = (0.5, 0.5),
        win_size: int = 11,
    ) -> None:
        self.reference = self._check_image(image)
        self.win_size = check_positive_int(win_size, "win_size")
        if self.win_size % 2 == 0:
            raise ValueError(f"win_size: must be odd, got {self.win_size}")
        if min(self.reference.shape[-2:]) < self.win_size:
            raise ValueError(
                f"image: {self.reference.shape[-2]}×{self.reference.shape[-1]} pixels is smaller "
                f"than the {self.win_size}-pixel SSIM window; use a larger image or win_size"
            )
        check_choice(distortion, "distortion", DISTORTIONS)
        target = _check_number(target_mse_8bit, "target_mse_8bit")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
        if not 0 <= seed <= _MAX_SEED:
            raise ValueError(f"seed: must be in 0..{_MAX_SEED}, got {seed}")
        # distort checks the length on the next line.
        self.centre = cast(tuple[float, float], tuple(centre))
        distort(self.reference, "patch", 0.0, centre=self.centre)  # validates centre

        self.results: dict = {}
        self.maps: dict[str, torch.Tensor] = {}
        self.distorted: torch.Tensor | None = None
        self.error: str | None = None
        self._quiet = False

        self.dropdown = widgets.Dropdown(
            options=list(DISTORTIONS), value=distortion, description="distortion"
        )
        self.slider = widgets.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            description="strength",
            continuous_update=False,
            readout_format=".4g",
            style={"description_width": "initial"},
        )
        self.target = widgets.BoundedFloatText(
            value=target,
            min=1e-6,
            max=_GREY_LEVELS**2,
            description="target MSE (8-bit)",
            style={"description_width": "initial"},
            layout={"width": "16em"},
        )
        self.match_button = widgets.Button(description="match target MSE")
        self.seed = widgets.BoundedIntText(
            value=seed, min=0, max=_MAX_SEED, description="seed", layout={"width": "9em"}
        )
        self.numbers = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.dropdown, self.slider, self.seed]),
                widgets.HBox([self.target, self.match_button]),
                self.picture,
                self.numbers,
            ]
        )
        self._set_range(distortion)
        first = self.matched_strength(distortion) if strength is None else strength
        self._set_strength(self._check_strength(distortion, first))

        self.dropdown.observe(self._on_distortion, names="value")
        self.slider.observe(self._on_value, names="value")
        self.seed.observe(self._on_value, names="value")
        self.match_button.on_click(self._on_match)
        self.update()

    # -- set-up ---------------------------------------------------------------------------------
    @staticmethod
    def _check_image(image) -> torch.Tensor:
        if isinstance(image, ImageSet):
            image = image.images[:1]
        if not isinstance(image, torch.Tensor):
            raise TypeError(
                f"image: expected a C×H×W tensor or an ImageSet, got {type(image).__name__}"
            )
        if image.ndim == 3:
            image = image[None]
        if image.ndim != 4 or image.shape[0] != 1:
            raise ValueError(
                f"image: expected one image, C×H×W or 1×C×H×W, got shape {tuple(image.shape)}"
            )
        image = check_images(image, "image")
        return image.detach().float().cpu()

    def largest_strength(self, distortion: str) -> float:
        """The top of the slider for ``distortion`` (its range in ``STRENGTH_RANGES``)."""
        check_choice(distortion, "distortion", DISTORTIONS)
        top = STRENGTH_RANGES[distortion][1]
        return float(min(self.reference.shape[-2:])) if math.isinf(top) else top

    def _check_strength(self, distortion: str, strength) -> float:
        value = _check_number(strength, "strength", positive=False)
        top = self.largest_strength(distortion)
        if not 0.0 <= value <= top:
            raise ValueError(f"strength: {value:g} is out of range for {distortion!r} (0..{top:g})")
        return value

    def _set_range(self, distortion: str) -> None:
        top = self.largest_strength(distortion)
        with self.slider.hold_trait_notifications():
            self.slider.value = 0.0
            self.slider.max = top
            self.slider.step = top / _SLIDER_STEPS

    def _set_strength(self, value: float) -> None:
        self._quiet = True
        try:
            self.slider.value = value
        finally:
            self._quiet = False

    # -- the computation -----------------------------------------------------------------------
    def matched_strength(self, distortion: str | None = None) -> float:
        """The strength of ``distortion`` (default: the selected one) whose MSE is the target."""
        distortion = selected(self.dropdown) if distortion is None else distortion
        check_choice(distortion, "distortion", DISTORTIONS)
        target = self.target.value / _GREY_LEVELS**2
        found = match_mse(
            self.reference, distortion, target, seed=self.seed.value, centre=self.centre
        )
        return found.strength

    def compute(self, distortion: str, strength: float, seed: int = 0) -> tuple[dict, dict]:
        """Numbers and maps for one setting, without touching the widgets: ``(results, maps)``;
        ``maps`` also holds the distorted image under ``"distorted"``."""
        check_choice(distortion, "distortion", DISTORTIONS)
        strength = self._check_strength(distortion, strength)
        start = time.perf_counter()
        y = distort(self.reference, distortion, strength, seed=seed, centre=self.centre)
        out = ssim(
            self.reference, y, win_size=self.win_size, return_map=True, return_components=True
        )
        err = float(mse(self.reference, y, reduction="mean"))
        # return_map and return_components fill every map of the output.
        maps = {
            "luminance": cast(torch.Tensor, out.luminance)[0].mean(0),
            "contrast": cast(torch.Tensor, out.contrast)[0].mean(0),
            "structure": cast(torch.Tensor, out.structure)[0].mean(0),
            "ssim": cast(torch.Tensor, out.ssim_map)[0].mean(0),
        }
        try:
            multi = float(ms_ssim(self.reference, y, win_size=self.win_size))
        except ValueError:  # too small for five scales
            multi = None
        results = {
            "distortion": distortion,
            "strength": strength,
            "seed": seed,
            "mse": err,
            "mse_8bit": err * _GREY_LEVELS**2,
            "psnr": 10 * math.log10(1 / err) if err > 0 else math.inf,
            "ssim": float(out.value),
            "luminance": float(maps["luminance"].mean()),
            "contrast": float(maps["contrast"].mean()),
            "structure": float(maps["structure"].mean()),
            "ssim_map_min": float(maps["ssim"].min()),
            "ms_ssim": multi,
            "seconds": time.perf_counter() - start,
        }
        return results, {**maps, "distorted": y}

    def update(self) -> dict:
        """Recompute for the current controls, redraw, and return :attr:`results`."""
        results, maps = self.compute(selected(self.dropdown), self.slider.value, self.seed.value)
        self.distorted = maps.pop("distorted")
        self.maps = maps
        self.results = dict(results)
        self.error = None
        self.picture.value = self._maps_png()
        self.numbers.value = self._numbers_html(results)
        return dict(results)

    def match(self) -> dict:
        """Move the slider to the strength whose MSE is the target (one update)."""
        self._set_strength(self.matched_strength())
        return self.update()

    # -- callbacks -----------------------------------------------------------------------------
    def _on_distortion(self, change) -> None:
        def switch():
            self._quiet = True
            try:
                self._set_range(change["new"])
            finally:
                self._quiet = False
            self.match()

        self._guarded(switch)

    def _on_value(self, change) -> None:
        if not self._quiet:
            self._guarded(self.update)

    def _on_match(self, button) -> None:
        self._guarded(self.match)

    # -- drawing -------------------------------------------------------------------------------
    def _maps_png(self) -> bytes:
        fig = Figure(figsize=(13.5, 2.6))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.86, wspace=0.08)
        axes = fig.subplots(1, 6)
        grey = self.reference.shape[1] == 1
        panels = [("reference", self.reference), ("distorted", self.distorted)]
        for ax, (title, image) in zip(axes[:2], panels, strict=True):
            shown = image[0, 0] if grey else image[0].permute(1, 2, 0)
            ax.imshow(shown.numpy(), cmap="gray" if grey else None, vmin=0, vmax=1)
            ax.set_title(title, fontsize=9)
        r = self.results
        for ax, name in zip(axes[2:], MAP_NAMES, strict=True):
            m = self.maps[name].numpy()
            # l and c lie in (0, 1]; s and the SSIM map in [−1, 1].
            low = 0.0 if name in ("luminance", "contrast") else -1.0
            ax.imshow(m, cmap="magma", vmin=low, vmax=1)
            ax.set_title(f"{name} (mean {r[name]:.3f})", fontsize=9)
        for ax in axes:
            ax.set_axis_off()
        return figure_png(fig)

    def _numbers_html(self, r: dict) -> str:
        rows = [
            ("MSE (8-bit grey levels²)", f"{r['mse_8bit']:.1f}"),
            ("PSNR", f"{r['psnr']:.2f} dB"),
            ("SSIM", f"{r['ssim']:.4f}"),
            ("lowest value in the SSIM map", f"{r['ssim_map_min']:.3f}"),
            ("MS-SSIM", "image too small" if r["ms_ssim"] is None else f"{r['ms_ssim']:.4f}"),
        ]
        cells = "".join(
            f"<tr><td style='padding-right:1em'>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows
        )
        setting = f"{r['distortion']}, strength {r['strength']:.4g}"
        return (
            f"<div><b>{html.escape(setting)}</b><table>{cells}</table>"
            f"<small>{r['seconds']:.2f} s</small></div>"
        )

    # -- display -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        c, h, w = self.reference.shape[1:]
        return (
            f"SSIMMapsWidget({self.dropdown.value!r}, strength={self.slider.value:.4g}, "
            f"image {c}×{h}×{w})"
        )
