"""The claims notebook 08 shows: GAN-train / GAN-test on the bench and on the course DCGAN, and
precision / recall / density / coverage on the same sets.

The sets, seeds and classifier recipe are the notebook's smoke parameters (600 images per set, the
8-16-32-32 CNN, 10 epochs, one CPU thread), so every threshold below is checked against the
numbers the notebook prints at that size; the notebook's committed run (2,000 images) shows the
same claims with wider margins.
"""

from __future__ import annotations

import pytest
import torch

import lib.bench as bench
import lib.datasets as datasets
import lib.features as features
from lib.features.classifiers import WIDTHS, CourseCNN
from lib.features.fitting import accuracy, fit_classifier
from lib.metrics import density_coverage, gan_train_test, precision_recall
from lib.models import checkpoint_steps, generate, load_generator

N = 600
SEED = 0
SMALL = (8, 16, 32, 32)
RECIPE = dict(epochs=10, batch_size=32, lr=0.01, seed=SEED, widths=SMALL, device="cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Small networks train fastest on one thread, and a run is reproducible only for a fixed
    # thread count; restore the caller's setting afterwards.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train(train_set: datasets.ImageSet) -> CourseCNN:
    torch.manual_seed(SEED)  # the initialisation gan_train_test uses
    net = CourseCNN(train_set.images.shape[1], train_set.num_classes, widths=SMALL)
    return fit_classifier(net, train_set, epochs=10, batch_size=32, lr=0.01, seed=SEED)


@pytest.fixture(scope="module")
def shapes_setup(one_thread):
    real_train = datasets.shapes(N, seed=SEED + 1)
    real_test = datasets.shapes(N, seed=SEED + 2)
    fresh = datasets.shapes(N, seed=SEED + 3)
    return real_train, real_test, fresh, _train(real_train)


@pytest.fixture(scope="module")
def shapes_net():
    return features.get("shapes-cnn", device="cpu")


@pytest.fixture(scope="module")
def reference(shapes_setup, shapes_net):
    return shapes_net.features(shapes_setup[1].images).double()


def _gtt(shapes_setup, generated):
    real_train, real_test, _, real_net = shapes_setup
    return gan_train_test(real_train, real_test, generated, real_classifier=real_net, **RECIPE)


def _prdc(reference, net, images):
    fake = net.features(images).double()
    return {
        **precision_recall(reference, fake)._asdict(),
        **density_coverage(reference, fake)._asdict(),
    }


# --------------------------------------------------------------------------- GAN-train / GAN-test
@pytest.mark.slow
def test_a_fresh_real_draw_scores_real_to_real(shapes_setup):
    result = _gtt(shapes_setup, shapes_setup[2])
    assert result.real_to_real > 0.5  # 0.535 at this size, 0.813 with 2,000 images
    assert abs(result.gan_train - result.real_to_real) < 0.1
    assert abs(result.gan_test - result.real_to_real) < 0.1


@pytest.mark.slow
def test_the_library_trains_the_same_classifier_as_the_recipe_by_hand(shapes_setup):
    real_train, real_test, fresh, real_net = shapes_setup
    by_hand = accuracy(_train(fresh), real_test.images, real_test.labels)
    assert _gtt(shapes_setup, fresh).gan_train == by_hand


@pytest.mark.slow
@pytest.mark.parametrize("distinct", [1, 2])
def test_a_collapsed_generator_aces_gan_test_and_fails_gan_train(shapes_setup, distinct):
    collapsed = bench.collapse_within_class(shapes_setup[0], distinct, seed=SEED)
    result = _gtt(shapes_setup, collapsed)
    assert result.gan_test >= result.real_to_real  # 0.600 vs 0.535: copies of training images
    assert result.gan_train < 0.25  # 0.120-0.125: near chance (0.1)


@pytest.mark.slow
def test_mode_dropping_keeps_gan_test_and_halves_gan_train(shapes_setup):
    dropped = bench.drop_modes(shapes_setup[0], 5, seed=SEED)
    result = _gtt(shapes_setup, dropped)
    assert result.gan_test >= result.real_to_real  # 0.703
    assert result.gan_train < 0.55  # 0.362: five classes were never seen


def test_occlusion_and_salt_and_pepper_lower_gan_test(shapes_setup):
    for kind in ("rectangles", "salt_pepper"):
        damaged = datasets.ImageSet(
            bench.degrade(shapes_setup[0].images, kind, 2, seed=SEED), shapes_setup[0].labels
        )
        real_net = shapes_setup[3]
        gan_test = accuracy(real_net, damaged.images, damaged.labels)
        real_to_real = accuracy(real_net, shapes_setup[1].images, shapes_setup[1].labels)
        assert gan_test < 0.7 * real_to_real  # 0.247 and 0.353 against 0.535


@pytest.mark.slow
def test_the_shapes_dcgan_is_recognisable_but_not_learnable(shapes_setup):
    steps = checkpoint_steps("shapes")
    untrained = _gtt(shapes_setup, generate(load_generator("shapes", steps[0]), N, seed=SEED))
    trained = _gtt(shapes_setup, generate(load_generator("shapes", steps[-1]), N, seed=SEED))
    assert untrained.gan_train < 0.2 and untrained.gan_test < 0.2
    assert trained.gan_test > untrained.gan_test + 0.2  # 0.420 vs 0.100
    assert trained.gan_train < trained.gan_test  # 0.177
    assert trained.gan_train < 0.5 * trained.real_to_real


@pytest.mark.slow
def test_the_digits_dcgan_reaches_real_to_real(one_thread):
    train, test = datasets.digits("train")[:N], datasets.digits("test")
    generated = generate(load_generator("digits"), len(train), seed=SEED)
    result = gan_train_test(train, test, generated, real_classifier=_train(train), **RECIPE)
    assert result.real_to_real > 0.95  # 0.981
    assert abs(result.gan_train - result.real_to_real) < 0.1  # 0.955
    assert abs(result.gan_test - result.real_to_real) < 0.1  # 0.932


def test_a_generator_that_ignores_its_labels_fails_gan_test(shapes_setup):
    samples = generate(load_generator("shapes"), N, seed=SEED)
    shuffled = samples.labels[torch.randperm(N, generator=torch.Generator().manual_seed(SEED))]
    assert accuracy(shapes_setup[3], samples.images, shuffled) < 0.2  # chance is 0.1


# -------------------------------------------------------------------------------- k-NN measures
@pytest.fixture(scope="module")
def bench_prdc(shapes_setup, shapes_net, reference):
    sets = {"fresh draw": shapes_setup[2], **bench.bench_sets(shapes_setup[0], level=2, seed=SEED)}
    return {name: _prdc(reference, shapes_net, s.images) for name, s in sets.items()}


def test_mode_dropping_lowers_recall_and_coverage_but_not_precision(bench_prdc):
    fresh, drop = bench_prdc["fresh draw"], bench_prdc["drop 5 of 10 modes"]
    assert drop["precision"] >= 0.9 * fresh["precision"]  # 0.890 vs 0.900
    assert drop["density"] >= 0.9 * fresh["density"]
    assert drop["recall"] < 0.6 * fresh["recall"]  # 0.393 vs 0.905
    assert drop["coverage"] < 0.7 * fresh["coverage"]  # 0.535 vs 0.987


def test_noise_lowers_precision_and_density(bench_prdc):
    fresh, noise = bench_prdc["fresh draw"], bench_prdc["noise"]
    assert noise["precision"] < 0.75 * fresh["precision"]  # 0.587
    assert noise["density"] < 0.5 * fresh["density"]  # 0.337 vs 1.028


def test_memorisation_keeps_fidelity_and_loses_recall_and_coverage(bench_prdc):
    fresh, mem = bench_prdc["fresh draw"], bench_prdc["memorised (1 per class)"]
    assert mem["precision"] >= 0.9 * fresh["precision"]
    assert mem["density"] >= 0.9 * fresh["density"]
    assert mem["recall"] < 0.05  # copies have k-NN balls of radius 0
    assert mem["coverage"] < 0.2


def test_occlusion_fools_recall_but_not_coverage(bench_prdc):
    fresh, rect = bench_prdc["fresh draw"], bench_prdc["rectangles"]
    assert rect["recall"] >= 0.8 * fresh["recall"]  # 0.813 vs 0.905
    assert rect["coverage"] < 0.5 * fresh["coverage"]  # 0.247 vs 0.987


def test_coverage_catches_every_broken_set(bench_prdc):
    fresh = bench_prdc["fresh draw"]["coverage"]
    assert all(s["coverage"] < 0.75 * fresh for n, s in bench_prdc.items() if n != "fresh draw")


def test_outliers_inflate_recall_but_not_coverage():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor(
        [[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]], dtype=torch.float64
    )
    real = centres[torch.arange(200) % 4] + 0.5 * torch.randn(
        200, 2, generator=gen, dtype=torch.float64
    )
    one_mode = centres[3] + 0.5 * torch.randn(190, 2, generator=gen, dtype=torch.float64)
    angles = torch.arange(10, dtype=torch.float64) * 2 * torch.pi / 10
    outliers = 5.5 * torch.stack([angles.cos(), angles.sin()], dim=1)
    fake = torch.cat([one_mode, outliers])
    assert precision_recall(real, fake).recall >= 0.9
    assert density_coverage(real, fake).coverage <= 0.3
    assert precision_recall(real, one_mode).recall <= 0.3  # without the outliers


def test_truncation_trades_recall_for_density(shapes_net, reference):
    g = load_generator("shapes")
    z = torch.randn(N, g.z_dim, generator=torch.Generator().manual_seed(SEED))
    y = torch.arange(N) % g.num_classes
    with torch.no_grad():
        full, truncated = (_prdc(reference, shapes_net, g(psi * z, y)) for psi in (1.0, 0.25))
    assert truncated["recall"] < 0.5 * full["recall"]  # 0.003 vs 0.442
    assert truncated["coverage"] < full["coverage"]
    assert truncated["density"] > full["density"]  # 0.523 vs 0.448


# ------------------------------------------------------------------------ the classifier's width
def test_course_cnn_width_option():
    assert CourseCNN(3).widths == WIDTHS and CourseCNN(3).num_features == WIDTHS[-1]
    small = CourseCNN(1, widths=[8, 16, 32, 40])
    assert small.widths == (8, 16, 32, 40) and small.num_features == 40
    assert small.logits(torch.rand(2, 1, 32, 32)).shape == (2, 10)
    for bad in [(8, 16, 32), (8, 16, 0, 32), (8.0, 16, 32, 32)]:
        with pytest.raises(ValueError, match="widths: expected 4 positive channel counts"):
            CourseCNN(3, widths=bad)
