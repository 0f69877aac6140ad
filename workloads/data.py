"""Images for the benchmarks: synthetic and deterministic by default, or a folder of files.

Synthetic images look like a body in a scan rather than noise: an elliptical "body" with a
soft edge, a tissue background and a few smooth blobs of other intensities, all drawn from a
seeded generator, so the same seed gives the same images on every machine.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F


def synthetic(shape: tuple[int, ...], batch: int, seed: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """A batch ``[batch, 1, *shape]`` of body-like images in [0, 1], deterministic from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    dims = len(shape)
    axes = torch.meshgrid(*[torch.linspace(-1, 1, n) for n in shape], indexing="ij")
    grid = torch.stack(axes)  # [dims, *shape]
    out = torch.empty(batch, 1, *shape)
    for b in range(batch):
        radii = 0.6 + 0.25 * torch.rand(dims, generator=g)
        centre = 0.1 * (torch.rand(dims, generator=g) - 0.5)
        r = torch.sqrt(sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(dims)))
        body = torch.sigmoid((1 - r) * 20)  # soft edge
        img = 0.3 * body
        for _ in range(int(torch.randint(3, 7, (1,), generator=g))):
            c = (torch.rand(dims, generator=g) - 0.5) * radii
            sigma = 0.05 + 0.1 * torch.rand(1, generator=g)
            amp = 0.2 + 0.5 * torch.rand(1, generator=g)
            d2 = sum((grid[i] - c[i]) ** 2 for i in range(dims))
            img = img + amp * torch.exp(-d2 / (2 * sigma**2)) * body
        out[b, 0] = img.clamp(0, 1)
    return out.to(device)


def _read(path: Path, dims: int) -> torch.Tensor:
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        import nibabel as nib

        arr = torch.as_tensor(nib.load(str(path)).get_fdata(), dtype=torch.float32)
    elif name.endswith(".png"):
        import numpy as np
        from PIL import Image

        arr = torch.as_tensor(np.array(Image.open(path).convert("F")), dtype=torch.float32)
    else:
        raise ValueError(f"{path}: not a NIfTI (.nii, .nii.gz) or PNG file")
    while arr.dim() > dims:  # a 3D volume for a 2D preset: its middle slice
        arr = arr.select(-1, arr.shape[-1] // 2)
    if arr.dim() != dims:
        raise ValueError(f"{path}: has {arr.dim()} dimensions, a {dims}D preset needs {dims}")
    return arr


def from_folder(folder: str | Path, shape: tuple[int, ...], batch: int, index: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """Batch number ``index`` from the NIfTI/PNG files in ``folder``, resized to ``shape``.

    Each image is scaled to [0, 1] by its own min and max. Files are taken in name order and
    cycled when the folder has fewer than a batch needs.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith((".nii", ".nii.gz", ".png")))
    if not files:
        raise ValueError(f"{folder}: no .nii, .nii.gz or .png files")
    out = []
    for k in range(batch):
        arr = _read(files[(index * batch + k) % len(files)], len(shape))
        lo, hi = arr.min(), arr.max()
        arr = (arr - lo) / (hi - lo) if hi > lo else torch.zeros_like(arr)
        mode = "bilinear" if len(shape) == 2 else "trilinear"
        arr = F.interpolate(arr[None, None], size=shape, mode=mode, align_corners=False)[0]
        out.append(arr)
    return torch.stack(out).to(device)
