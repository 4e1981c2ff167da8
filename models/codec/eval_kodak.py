#!/usr/bin/python3
"""PSNR of the exported patch codecs on a Kodak folder (evaluation only).

PSNR = 10 log10(255^2 / MSE) over all non-overlapping 8x8 patches (grid from the top-left) of all
images, RGB, 0-255 scale. Runs the exported ONNX graphs with the numpy interpreter in
onnx_export.py (onnxruntime is not packaged in Debian); --onnxruntime uses onnxruntime instead
when it is installed.

  /usr/bin/python3 models/codec/eval_kodak.py --kodak ../shared/data/kodak --models models
Prints {"levels":[{"bytes":12,"psnr":...},...]}.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import kodak_patches, psnr  # noqa: E402
import onnx_export  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--kodak", default=os.path.join(here, "..", "..", "..", "shared", "data", "kodak"))
    ap.add_argument("--models", default=os.path.join(here, ".."))
    ap.add_argument("--onnxruntime", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(args.models, "manifest.json")) as f:
        manifest = json.load(f)
    x = kodak_patches(args.kodak)
    xf = x.astype(np.float32) / 255.0
    levels = []
    for m in manifest["models"]:
        if m.get("kind") != "patch-codec":
            continue
        enc_path = os.path.join(args.models, m["encoder"]["file"])
        dec_path = os.path.join(args.models, m["decoder"]["file"])
        if args.onnxruntime:
            import onnxruntime as ort
            code = ort.InferenceSession(enc_path).run(None, {"patches": xf})[0]
            y = ort.InferenceSession(dec_path).run(None, {"code": code})[0]
        else:
            (code,) = onnx_export.run(onnx.load(enc_path), {"patches": xf})
            (y,) = onnx_export.run(onnx.load(dec_path), {"code": code})
        assert code.dtype == np.uint8 and code.shape == (len(x), m["bytes"])
        levels.append({"bytes": m["bytes"], "psnr": round(psnr(y, x, 255, 1), 3)})
    print(json.dumps({"images": args.kodak, "patches": int(len(x)), "levels": levels}))


if __name__ == "__main__":
    main()
