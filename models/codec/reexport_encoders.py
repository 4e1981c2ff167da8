#!/usr/bin/python3
"""Rewrite the committed patch encoders in the current graph form (onnx_export.build_encoder_from)
without retraining: the PCA basis and codebooks are read back from each encoder ONNX (either the
per-group Slice/ArgMin form or the bucketed TopK form), re-exported, checked to give the same bytes
as the file it replaces (numpy interpreter, on patches of the images given), and the manifest's
encoder sha256 is updated. Decoders are untouched.

  /usr/bin/python3 models/codec/reexport_encoders.py --models models --images assets/images
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_export  # noqa: E402
from common import grid_patches, list_images, load_rgb, sha256, write_manifest  # noqa: E402


def read_encoder(path):
    """(P, Pb, offsets, Cm2, Cn) from an encoder graph of either form."""
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    if "s0" in init:  # per-group form: Slice [s_g, e_g) → MatMul Cm2_g → Add Cn_g → ArgMin
        G = sum(1 for n in m.graph.node if n.op_type == "ArgMin")
        offsets = np.array([int(init["s0"][0])] + [int(init[f"e{g}"][0]) for g in range(G)], np.int64)
        return init["P"], init["Pb"].reshape(-1), offsets, [init[f"Cm2_{g}"] for g in range(G)], \
            [init[f"Cn_{g}"].reshape(-1) for g in range(G)]
    # bucketed form: latents are the first D columns of z, then the constant-1 and constant-0 columns
    D = init["P"].shape[1] - 2
    groups = []
    b = 0
    while f"idx{b}" in init:
        idx, C = init[f"idx{b}"], init[f"C{b}"]
        dm = idx.shape[1] - 1
        for j in range(idx.shape[0]):
            dims = [int(d) for d in idx[j, :dm] if d < D]
            groups.append((dims[0], len(dims), C[j, :len(dims)], C[j, dm]))
        b += 1
    groups.sort(key=lambda t: t[0])
    offsets = np.array([g[0] for g in groups] + [groups[-1][0] + groups[-1][1]], np.int64)
    return init["P"][:, :D], init["Pb"][:D], offsets, [g[2] for g in groups], [g[3] for g in groups]


def image_patches(folder, limit):
    """Every grid patch of the folder's images (pixel/255), thinned to about `limit`."""
    x = np.concatenate([grid_patches(load_rgb(f)) for f in list_images(folder)]).astype(np.float32) / 255.0
    return x[:: max(1, len(x) // limit)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="models")
    ap.add_argument("--images", default="assets/images", help="folder of images whose patches check the bytes")
    ap.add_argument("--patches", type=int, default=40000)
    args = ap.parse_args()
    x = image_patches(args.images, args.patches)
    man_path = os.path.join(args.models, "manifest.json")
    with open(man_path, encoding="utf-8") as f:
        manifest = json.load(f)
    for entry in manifest["models"]:
        if entry.get("kind") != "patch-codec":
            continue
        path = os.path.join(args.models, entry["encoder"]["file"])
        old = onnx.load(path)
        P, Pb, offsets, Cm2, Cn = read_encoder(path)
        new, _ = onnx_export.build_encoder_from(P, Pb, offsets, Cm2, Cn, entry["id"] + "-enc")
        (a,) = onnx_export.run(old, {"patches": x})
        (b,) = onnx_export.run(new, {"patches": x})
        mismatch = int((a != b).sum())
        print(f"{entry['id']}: {len(x)} patches, byte mismatches old vs new {mismatch}/{a.size}")
        if mismatch:
            raise SystemExit(f"{path}: the re-exported encoder disagrees with the committed one")
        onnx.save(new, path)
        entry["encoder"]["sha256"] = sha256(path)
    write_manifest(man_path, manifest)
    print(f"updated {man_path}")


if __name__ == "__main__":
    main()
