"""The workloads suite: data, presets, and a smoke run of the tiny preset under the plugin."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")

from pytest_carbon.projection import ProjectionSpec, project  # noqa: E402
from workloads.data import from_folder, synthetic  # noqa: E402
from workloads.presets import PRESETS, parameter_counts, variants  # noqa: E402

WORKLOADS = Path(__file__).resolve().parent.parent / "workloads"


@pytest.mark.parametrize("shape", [(32, 32), (16, 16, 16), (24, 20)])
def test_synthetic_images_are_deterministic_with_the_right_shape(shape):
    a = synthetic(shape, batch=3, seed=7)
    b = synthetic(shape, batch=3, seed=7)
    assert a.shape == (3, 1, *shape)
    assert torch.equal(a, b)
    assert not torch.equal(a, synthetic(shape, batch=3, seed=8))
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert not torch.equal(a[0], a[1])  # each image of a batch differs


def test_synthetic_images_are_smooth_bodies_not_noise():
    x = synthetic((64, 64), batch=2, seed=0)[0, 0]
    corner, centre = x[:4, :4].mean(), x[28:36, 28:36].mean()
    assert corner < 0.05 < centre  # a body on an empty background
    neighbour = (x[1:, :] - x[:-1, :]).abs().mean()
    assert neighbour < 0.2 * x.std()  # smooth: neighbours close, unlike noise


def test_folder_loader_reads_png_and_nifti(tmp_path):
    import nibabel as nib
    import numpy as np
    from PIL import Image

    for i in range(2):
        Image.fromarray((np.random.default_rng(i).random((40, 50)) * 255).astype("uint8")).save(tmp_path / f"img{i}.png")
    x = from_folder(tmp_path, (32, 32), batch=3, index=0)
    assert x.shape == (3, 1, 32, 32) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(x[0], x[2])  # two files, cycled
    vol = tmp_path / "vols"
    vol.mkdir()
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((20, 24, 18)).astype("float32"), np.eye(4)), str(vol / "v.nii.gz"))
    assert from_folder(vol, (16, 16, 16), batch=1, index=0).shape == (1, 1, 16, 16, 16)
    assert from_folder(vol, (16, 16), batch=1, index=0).shape == (1, 1, 16, 16)  # middle slice


def test_folder_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="no .nii, .nii.gz or .png files"):
        from_folder(tmp_path, (8, 8), 1, 0)


@pytest.mark.parametrize(
    "preset, dims, ae_m, unet_m",
    [("tutorial-2d", 2, 8.1, 64.1), ("tutorial-3d", 3, 2.3, 3.0)],
)
def test_tutorial_presets_match_monai_tutorial_sizes(preset, dims, ae_m, unet_m):
    ae, unet = parameter_counts(PRESETS[preset][dims])
    assert ae / 1e6 == pytest.approx(ae_m, rel=0.02)
    assert unet / 1e6 == pytest.approx(unet_m, rel=0.02)


def test_brain_preset_autoencoder_matches_the_bundle():
    v = PRESETS["brain-3d"][3]
    ae, unet = parameter_counts(v)
    assert ae / 1e6 == pytest.approx(13.8, rel=0.02)
    assert v.latent_size == (20, 28, 20)
    assert unet / 1e6 == pytest.approx(553.2, rel=0.01)  # the bundle's conditioned UNet; see docs/workloads.md


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown workload preset 'huge'; known: tiny, tutorial-2d, tutorial-3d, brain-3d"):
        variants(["huge"])


def test_projection_arithmetic():
    spec = ProjectionSpec("train", 150_000, "150k")
    p = project(spec, energy_j=20.0, items=4, g_per_j=400 / 3.6e6).to_json()
    assert p["energy_j_per_item"] == 5.0
    assert p["energy_j"] == 750_000.0
    assert p["co2_g"] == pytest.approx(750_000 / 3.6e6 * 400)
    assert p["car_km"] == pytest.approx(p["co2_g"] / 107.5)
    assert p["factor"] == 37_500 and p["extrapolated"] is True
    unknown = project(spec, energy_j=None, items=4, g_per_j=1.0).to_json()
    assert unknown["energy_j"] is None and unknown["co2_g"] is None and unknown["car_km"] is None


def test_markers_select_phases(pytester):
    result = pytester.runpytest_subprocess(str(WORKLOADS), "--co", "-q", "-m", "sample", "-p", "no:randomly")
    assert result.ret == 0
    ids = [line for line in result.outlines if "::" in line]
    assert len(ids) == 4 and all("test_sample[" in i for i in ids)
    result = pytester.runpytest_subprocess(str(WORKLOADS), "--co", "-q", "-m", "train and not ddp")
    ids = [line for line in result.outlines if "::" in line]
    assert sorted({i.split("[")[0].split("::")[1] for i in ids}) == ["test_train_autoencoder", "test_train_diffusion"]


def test_tiny_suite_smoke_run_under_the_plugin(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = pytester.path / "workloads.json"
    result = pytester.runpytest_subprocess(
        str(WORKLOADS), "--workload-steps", "2", "--workload-images", "500", "--carbon-json", str(out), "--carbon-interval", "0.05"
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["workloads: torch *", "  tiny-2d: 32x32 images, latent 3x16x16, autoencoder *M + UNet *M parameters*", "*Projections: *extrapolated, not measured*",
         "*the study beside this run*", "| 2D training (autoencoder + diffusion, 150,000 iterations each) | * | 10 | *x |", "These are toy figures*"]
    )  # fmt: skip
    report = json.loads(out.read_text())
    tests = {t["nodeid"]: t for t in report["tests"]}
    assert len(tests) == 9
    # --workload-steps 2 caps DDIM's 20 steps: the id says the 2 that ran
    assert "test_ldm.py::test_sample[tiny-2d-ddim20]" not in tests
    sample = tests["test_ldm.py::test_sample[tiny-2d-ddim2]"]
    assert sample["info"]["batch"] == 2 and sample["info"]["denoising_steps"] == 2  # the images made together
    (phase,) = sample["phases"]
    assert (phase["name"], phase["items"]) == ("sample", 2)
    assert phase["energy_j_per_item"] == pytest.approx(phase["energy_j"]["total"] / 2)
    (proj,) = sample["projections"]
    assert proj["count"] == 500 and proj["label"] == "500 images (DDIM, 2 steps)"
    assert proj["energy_j"] == pytest.approx(phase["energy_j_per_item"] * 500)
    train = tests["test_ldm.py::test_train_diffusion[tiny-3d]"]
    # The batches are made before the measured loop, in a phase of their own
    assert [(p["name"], p["items"]) for p in train["phases"]] == [("data", 2), ("train", 2)]
    assert train["phases"][1]["per_item"]["n"] == 2  # 2 steps, no warm-up at this size
    assert train["info"]["threads"] >= 1 and train["info"]["dims"] == 3
    assert train["projections"][0]["count"] == 150_000
    ddp = tests["test_ldm.py::test_train_diffusion_ddp[tiny-2d]"]
    assert ddp["outcome"] == "passed"
    assert [p["name"] for p in ddp["phases"]] == ["spawn_and_train", "train"]
    assert ddp["info"]["world_size"] == 2 and ddp["info"]["backend"] == "gloo"
    assert ddp["info"]["threads"] == max(1, (os.cpu_count() or 1) // 2) and ddp["info"]["deterministic"] is False  # the workers'
    assert ddp["info"]["precision"] == "fp32"
    assert ddp["budget"]["key"] == "test_ldm.py::test_train_diffusion_ddp[tiny*"  # the more specific pattern


def test_brain_3d_is_the_bundles_conditioned_unet_and_can_run_unconditional(pytester):
    from workloads.presets import PRESETS, parameter_counts

    brain = PRESETS["brain-3d"][3]
    _, unet = parameter_counts(brain)
    assert abs(unet - 553.2e6) / 553.2e6 < 0.01  # the bundle's conditioned UNet: 553.2M
    _, plain = parameter_counts(brain.unconditional())
    assert abs(plain - 475.4e6) / 475.4e6 < 0.01  # resblock_updown, no conditioning: 475.4M
    result = pytester.runpytest_subprocess(str(WORKLOADS), "--co", "--workload-preset", "brain-3d", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["  brain-3d-3d: 160x224x160 images, * + UNet 553.17M parameters, batch 1; *conditioned"])


def test_a_conditioned_model_trains_and_samples_with_the_bundles_two_inputs():
    import dataclasses

    import torch

    from workloads.ldm import build, sample, set_scale_factor, train_diffusion
    from workloads.presets import PRESETS

    v = dataclasses.replace(PRESETS["tiny"][2], conditioning=4, unet_resblock_updown=True)
    m = build(v, "cpu", seed=0)
    x = torch.rand(2, 1, *v.image_size)
    set_scale_factor(m, x)
    calls = []
    unet_forward = m.unet.forward

    def spy(inp, timesteps, context=None, **kw):
        calls.append((tuple(inp.shape), None if context is None else tuple(context.shape)))
        return unet_forward(inp, timesteps=timesteps, context=context, **kw)

    m.unet.forward = spy  # type: ignore[method-assign]
    loss = train_diffusion(m, lambda i: x, 2)
    assert loss == loss and calls[0] == ((2, 3 + 4, *v.latent_size), (2, 1, 4))  # latent + 4 planes, and cross-attention
    images = sample(m, "ddim", 2, 2)
    assert images.shape == (2, 1, *v.image_size) and torch.isfinite(images).all()
    assert calls[-1] == ((2, 7, *v.latent_size), (2, 1, 4))


def test_a_sweep_of_two_samplers_and_three_step_counts_gives_six_sampling_tests_per_variant(pytester):
    args = (str(WORKLOADS), "--co", "-q", "-m", "sample", "-p", "no:randomly", "--workload-sampler", "ddpm,ddim", "--workload-sample-steps", "10,20,50")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 0
    ids = [line.split("[")[1].rstrip("]") for line in result.outlines if "::test_sample[" in line]
    assert ids == [f"tiny-{d}d-{k}{n}" for d in (2, 3) for k in ("ddpm", "ddim") for n in (10, 20, 50)]
    capped = pytester.runpytest_subprocess(*args, "--workload-steps", "15")  # the ids say the steps that run
    assert [line.split("[")[1].rstrip("]") for line in capped.outlines if "tiny-2d-ddpm" in line] == ["tiny-2d-ddpm10", "tiny-2d-ddpm15"]
    bad = pytester.runpytest_subprocess(str(WORKLOADS), "--co", "--workload-sample-steps", "0,20")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--workload-sample-steps 0,20: whole numbers of denoising steps from 1 to 1000*"])


def _paper_report(preset: str = "tutorial", device: str = "cuda", pue: float = 1.0) -> dict:
    def proj(energy, co2, count, ci=None):
        return {"count": count, "energy_j": energy, "co2_g": co2, "energy_j_ci95": ci, "co2_g_ci95": None if ci is None else [ci[0] / 9000, ci[1] / 9000]}

    info = {"preset": preset, "device": device, "dims": 2}
    return {
        "run": {"pue": pue},
        "tests": [
            {"nodeid": "test_ldm.py::test_train_autoencoder[x]", "info": info, "projections": [proj(3.6e6, 400.0, 150_000, [3.0e6, 4.2e6])]},
            {"nodeid": "test_ldm.py::test_train_diffusion[x]", "info": info, "projections": [proj(7.2e6, 800.0, 150_000, [7.0e6, 7.4e6])]},
            {"nodeid": "test_ldm.py::test_sample[x-ddpm1000]", "info": {**info, "sampler": "ddpm", "denoising_steps": 1000},
             "projections": [proj(36e6, 4000.0, 10_000)]},
            {"nodeid": "test_ldm.py::test_train_diffusion_ddp[x]", "info": {**info, "world_size": 2}, "projections": [proj(1.0, 1.0, 150_000)]},
            {"nodeid": "test_ldm.py::test_train_autoencoder[y]", "info": {**info, "dims": 3}, "projections": [proj(1.0, 1.0, 150_000)]},
        ],
        "whatif": {"ratio": 31.2, "cleanest": {"zone": "NOR"}, "dirtiest": {"zone": "XKX"},
                   "months": {"zone": "DEU", "values": [{"name": "Apr", "g_per_kwh": 300.0}, {"name": "Nov", "g_per_kwh": 450.0}]}},
    }  # fmt: skip


def test_the_paper_table_adds_the_training_halves_and_sets_ours_beside_the_study():
    from workloads.paper import render, rows

    train, gen = rows([_paper_report()])  # the DDP test and the 3D half without its pair make no row
    assert train.label == "2D training (autoencoder + diffusion, 150,000 iterations each)"
    assert (train.energy_j, train.co2_g, train.ci_j) == (10.8e6, 1200.0, (10.0e6, 11.6e6))  # 3.6 + 7.2 MJ, and the intervals' ends
    assert gen.label == "2D generation (10,000 images, DDPM 1000 steps)" and gen.co2_g == 4000.0
    text = render([_paper_report()])
    # 1200 g / 107.5 g/km = 11.16 km against the study's 10 km
    assert "| 2D training (autoencoder + diffusion, 150,000 iterations each) | 3 kWh [2.78-3.22] | 1.2 kg [1.11-1.29] | 11.2 | 10 | 1.12x |" in text
    assert "| 2D generation (10,000 images, DDPM 1000 steps) | 10 kWh | 4 kg | 37.2 | 160 | 0.233x |" in text
    assert "Location: the same energy emits 31.2x more in XKX than in NOR (the study: up to 94x)." in text
    assert "Season: in DEU, Nov emits 1.50x what Apr does (the study: up to 1.5x)." in text
    assert "toy figures" not in text
    like = render([_paper_report()], pue=1.58)  # the study's PUE: our CO2 x 1.58
    assert "PUE: ours 1.58 (rescaled from the reports' 1)" in like
    # 1200 g x 1.58 = 1896 g, 17.6 km; its interval (1111 to 1289 g) x 1.58
    assert "| 3 kWh [2.78-3.22] | 1.9 kg [1.76-2.04] | 17.6 | 10 | 1.76x |" in like
    assert "These are toy figures" in render([_paper_report(preset="tiny", device="cpu")])


def test_the_paper_cli_refuses_bad_input_without_a_traceback(tmp_path, capsys):
    from workloads.paper import main

    (tmp_path / "r.json").write_text("{not json")
    assert main([str(tmp_path / "r.json")]) == 4
    assert "not a readable JSON report" in capsys.readouterr().err
    good = tmp_path / "g.json"
    good.write_text(json.dumps(_paper_report()))
    assert main([str(good), "--pue", "0.5"]) == 4
    assert main([str(good)]) == 0 and "the study's km" in capsys.readouterr().out


def test_precision_is_the_tutorials_on_a_gpu_fp32_on_a_cpu_or_as_asked(pytester):
    from workloads.conftest import Settings
    from workloads.presets import PRESETS

    tut, tiny = PRESETS["tutorial-2d"][2], PRESETS["tiny"][2]

    def s(device: str, precision: str = "auto") -> Settings:
        return Settings(("x",), device, None, None, 1, 1, 1, "", precision)

    assert s("cuda").precision_for(tut) == ("fp16", "auto: the preset's tutorial's")
    assert s("cpu").precision_for(tut) == ("fp32", "auto: the tutorial's fp16 autocast is for GPUs; fp32 on the CPU")
    assert s("cuda").precision_for(tiny)[0] == "fp32" and s("cpu", "bf16").precision_for(tut) == ("bf16", "--workload-precision")
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(str(WORKLOADS), "-m", "train and not ddp", "--workload-steps", "2", "--workload-precision", "bf16",
                                           "--carbon-json", str(out), "-p", "no:randomly")  # fmt: skip
    assert result.ret == 0
    assert {t["info"]["precision"] for t in json.loads(out.read_text())["tests"]} == {"bf16"}


def test_the_perceptual_stand_in_has_alexnets_and_squeezenets_feature_layers():
    from workloads.losses import alexnet_features, squeezenet11_features

    # torchvision's alexnet().features and squeezenet1_1().features hold 2,469,696 and 722,496
    # parameters (conv weights + biases: 64*3*11*11+64, 192*64*5*5+192, ...).
    alex = 64 * 3 * 121 + 64 + 192 * 64 * 25 + 192 + 384 * 192 * 9 + 384 + 256 * 384 * 9 + 256 + 256 * 256 * 9 + 256
    assert alex == 2_469_696
    assert sum(p.numel() for p in alexnet_features().parameters()) == alex
    assert sum(p.numel() for p in squeezenet11_features().parameters()) == 722_496


@pytest.mark.parametrize(("network", "dims", "shape"), [("alex", 2, (2, 1, 64, 64)), ("squeeze", 3, (1, 1, 16, 16, 16))])
def test_the_perceptual_stand_in_is_lpips_shaped_zero_for_equal_images_and_passes_gradients(network, dims, shape):
    from workloads.losses import PerceptualStandIn

    m = PerceptualStandIn(network, dims)
    x = torch.rand(shape, requires_grad=True)
    assert float(m(x.detach(), x.detach())) == 0.0  # LPIPS of an image with itself
    loss = m(x, torch.rand(shape))
    loss.backward()
    assert float(loss.detach()) > 0 and x.grad is not None and float(x.grad.abs().sum()) > 0
    assert not any(p.requires_grad for p in m.parameters())  # frozen, as the tutorials' network


def test_the_tutorials_losses_add_a_discriminator_step_to_each_autoencoder_step():
    from workloads.ldm import build, train_autoencoder
    from workloads.losses import build_terms

    v = PRESETS["tiny"][2]
    m = build(v, "cpu", seed=0)
    terms = build_terms(v, m.device, m.scaler())
    d_steps = []
    step = terms.optimizer.step

    def counted(*a, **k):
        d_steps.append(1)
        return step(*a, **k)

    terms.optimizer.step = counted  # type: ignore[method-assign]
    before = [p.detach().clone() for p in terms.discriminator.parameters()]
    x = torch.rand(2, 1, *v.image_size)
    loss = train_autoencoder(m, lambda i: x, 3, terms=terms)
    assert loss == loss and len(d_steps) == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, terms.discriminator.parameters()))
    assert "PatchDiscriminator, 3 layers of 64 channels" in terms.describe() and "AlexNet" in terms.describe()


class _Clock:
    def __init__(self, steps):
        self.t, self.steps = 0.0, iter(steps)

    def __call__(self):
        t = self.t
        self.t += next(self.steps, 1.0)
        return t


def _run(rule):
    i = 0
    while rule(i):
        i += 1
    return i


def test_until_runs_the_presets_count_without_an_aim():
    from workloads.until import Until

    assert _run(Until(7, warmup=2)) == 7


def test_until_runs_until_the_step_times_are_steady_and_long_enough():
    from workloads.until import Until, half_width

    # Step times alternate 1.0 and 1.2 s: the mean's 95% interval narrows as steps add up.
    times = [5.0, 5.0] + [1.0, 1.2] * 50  # two slow warm-up steps, then steady ones
    rule = Until(4, warmup=2, target=0.05, most=1000, clock=_Clock(times))
    n = _run(rule)
    after = times[2:n]
    assert half_width(after) <= 0.05 < half_width(after[:-1])  # the first count that is narrow enough
    assert "steady" in rule.why and rule.ran == n
    # the same steps must also span 30 s or more when asked: more steps run
    long = Until(4, warmup=2, target=0.05, most=1000, span=30.0, clock=_Clock(times))
    m = _run(long)
    assert m > n and sum(times[2:m]) >= 30.0 > sum(times[2 : m - 1])


def test_until_stops_at_the_most_steps_or_the_time_cap_and_says_so():
    from workloads.until import Until

    noisy = [1.0, 10.0] * 100
    by_count = Until(4, target=0.01, most=12, clock=_Clock(noisy))
    assert _run(by_count) == 12 and "most steps" in by_count.why
    by_time = Until(4, target=0.01, most=1000, seconds=30.0, clock=_Clock(noisy))
    n = _run(by_time)
    assert sum(noisy[:n]) >= 30.0 > sum(noisy[: n - 1]) and "time cap" in by_time.why


def test_half_width_of_a_known_sample():
    from workloads.until import half_width

    # mean 2, sd 1 (1, 2, 3), n 3: t(0.975, 2) = 4.303 -> 4.303 * 1 / sqrt(3) / 2 = 1.2421
    assert half_width([1.0, 2.0, 3.0]) == pytest.approx(4.303 / 3**0.5 / 2, rel=1e-3)
    assert half_width([1.0]) is None


def test_full_losses_sample_batches_and_the_interval_rule_run_under_the_plugin(pytester):
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(
        str(WORKLOADS), "-p", "no:randomly", "-k", "tiny-2d and (autoencoder or ddim or (train_diffusion and not ddp))",
        "--workload-ae-loss", "full", "--workload-sample-batch", "1", "--workload-interval", "5",
        "--workload-max-seconds", "4", "--carbon-json", str(out),
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads(out.read_text())["tests"]}
    ae = tests["test_train_autoencoder[tiny-2d]"]
    assert "perceptual" in ae["info"]["ae_loss"] and "PatchDiscriminator" in ae["info"]["ae_loss"]
    diff = tests["test_train_diffusion[tiny-2d]"]
    train = next(p for p in diff["phases"] if p["name"] == "train")
    assert train["items"] == diff["info"]["steps"] >= 10  # the steps the rule ran, all of them items
    assert diff["info"]["steps_chosen_by"].startswith(("step times steady", "stopped at"))
    if diff["info"]["steps_chosen_by"].startswith("step times steady"):
        assert train["per_item"]["ci95_j"] is not None
    sample = tests["test_sample[tiny-2d-ddim20]"]
    phase = next(p for p in sample["phases"] if p["name"] == "sample")
    assert sample["info"]["batch"] == 1 and phase["items"] == 2  # two calls of one image each
    assert sample["projections"][0]["count"] == 10_000 and sample["info"]["projected_images"] == 10_000


def test_workload_batch_and_interval_options_are_checked(pytester):
    for args, message in (
        (("--workload-batch", "0"), "*--workload-batch 0: must be 1 or more*"),
        (("--workload-sample-batch", "-2"), "*--workload-sample-batch -2: must be 1 or more*"),
        (("--workload-interval", "abc"), "*--workload-interval abc: a percentage between 0 and 100*"),
        (("--workload-max-seconds", "0"), "*--workload-max-seconds 0.0: must be a positive number of seconds*"),
    ):
        result = pytester.runpytest_subprocess(str(WORKLOADS), "-q", "-m", "sample", "-k", "tiny-2d-ddim", *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, args
        result.stderr.fnmatch_lines([message])


def _gpu_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_workloads", WORKLOADS.parent / "benchmarks" / "gpu_workloads.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_the_gpu_results_rows_carry_precision_batch_spread_interval_and_projections():
    g = _gpu_script()
    report = {"tests": [{
        "nodeid": "test_ldm.py::test_train_diffusion[tutorial-2d]",
        "info": {"precision": "fp16", "batch": 64, "steps_chosen_by": "step times steady: 95% interval +/-1.2% after 80 steps"},
        "phases": [{"name": "train", "items": 80, "duration_s": 12.5, "energy_j": {"gpu:0": 5000.0, "total": 6000.0},
                    "energy_j_per_item": 75.0, "per_item": {"mean_j": 74.0, "p10_j": 70.0, "p90_j": 79.0, "ci95_j": [73.0, 75.0]}}],
        "projections": [{"label": "150,000 training iterations", "energy_j_per_item": 74.0, "energy_j": 1.11e7, "energy_j_ci95": [1.095e7, 1.125e7], "co2_g": 4200.0}],
    }]}  # fmt: skip
    (header, _, row) = g.phase_rows(report)
    assert header.split(" | ")[2:5] == ["precision", "batch", "items"]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:6] == ["test_train_diffusion[tutorial-2d]", "train", "fp16", "64", "80", "12.50 s"]
    assert cells[6:11] == ["1.39 Wh", "1.67 Wh", "74.0 J", "70.0 J - 79.0 J", "73.0 J - 75.0 J"]
    assert cells[11].startswith("step times steady")
    (_, _, proj) = g.projection_rows(report)
    assert [c.strip() for c in proj.strip("|").split("|")] == ["test_train_diffusion[tutorial-2d]", "150,000 training iterations", "74.0 J", "3.08 kWh", "3.04 kWh - 3.12 kWh", "4.2 kg"]


def test_the_gpu_script_says_plainly_when_there_is_no_gpu(capsys, monkeypatch):
    g = _gpu_script()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sys, "argv", ["gpu_workloads.py", "--out", os.devnull])
    assert g.main() == 2
    assert "gpu_workloads needs an NVIDIA GPU: torch.cuda.is_available() is False" in capsys.readouterr().err
