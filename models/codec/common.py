"""Shared helpers for the mmsc patch codecs: patch extraction, PSNR, file hashes and the manifest."""
import glob
import hashlib
import json
import os

import numpy as np
from PIL import Image

PATCH = 8
DIM = PATCH * PATCH * 3  # 192, HWC row-major (y, x, c)


def list_images(folder, exts=(".jpg", ".jpeg", ".png")):
    files = [f for f in sorted(glob.glob(os.path.join(folder, "*"))) if f.lower().endswith(exts)]
    if not files:
        raise SystemExit(f"no images in {folder}")
    return files


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def grid_patches(img):
    """All non-overlapping 8x8 patches (grid from the top-left), as uint8 [n,192] in HWC order."""
    h, w, _ = img.shape
    h8, w8 = h - h % PATCH, w - w % PATCH
    a = img[:h8, :w8].reshape(h8 // PATCH, PATCH, w8 // PATCH, PATCH, 3)
    return a.transpose(0, 2, 1, 3, 4).reshape(-1, DIM)


def random_patches(img, n, rng):
    """n random 8x8 patches at arbitrary offsets, with random horizontal/vertical flips
    and transposes (the 8 symmetries of the square), uint8 [n,192]."""
    h, w, _ = img.shape
    ys = rng.integers(0, h - PATCH + 1, n)
    xs = rng.integers(0, w - PATCH + 1, n)
    idx_y = ys[:, None] + np.arange(PATCH)[None, :]
    idx_x = xs[:, None] + np.arange(PATCH)[None, :]
    p = img[idx_y[:, :, None], idx_x[:, None, :]]  # [n,8,8,3]
    flip_h = rng.random(n) < 0.5
    flip_v = rng.random(n) < 0.5
    trans = rng.random(n) < 0.5
    p[flip_h] = p[flip_h][:, :, ::-1]
    p[flip_v] = p[flip_v][:, ::-1]
    p[trans] = p[trans].transpose(0, 2, 1, 3)
    return p.reshape(n, DIM)


def sample_training_patches(folder, per_image, seed, holdout_every=20):
    """Random patches from every image; every `holdout_every`-th image is held out (grid patches)."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for i, f in enumerate(list_images(folder)):
        img = load_rgb(f)
        if i % holdout_every == holdout_every - 1:
            held.append(grid_patches(img))
        else:
            train.append(random_patches(img, per_image, rng))
    train = np.concatenate(train)
    train = train[rng.permutation(len(train))]
    return train, np.concatenate(held)


def kodak_patches(folder):
    return np.concatenate([grid_patches(load_rgb(f)) for f in list_images(folder)])


def psnr(x_u8_or_float, y, scale_x=1.0, scale_y=1.0):
    """PSNR (0-255 scale) between two arrays; pass scale 255 for arrays in [0,1]."""
    a = np.asarray(x_u8_or_float, dtype=np.float64) * scale_x
    b = np.asarray(y, dtype=np.float64) * scale_y
    mse = np.mean((a - b) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_manifest(path, manifest):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
