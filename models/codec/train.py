#!/usr/bin/python3
"""Train the mmsc fixed-length patch codecs (12, 24, 48 bytes per 8x8x3 patch) on CPU and export
them to ONNX + models/manifest.json.

Method (see README.md): PCA of 192-d patches -> reverse water-filling bit allocation -> the used
PCA dimensions are split into G consecutive groups (G = bytes) of ~8 allocated bits each -> one
256-entry k-means codebook per group (product quantisation; byte g = codeword index of group g).
The decoder looks the codewords up and maps them back with the PCA basis (optionally, --epochs/--hidden,
it also fine-tunes the tables and adds a ReLU MLP residual on the encoder's fixed codes; off by default
because it gained only ~0.16 dB (Kodak) at 12 B for 3.6x the decoder MACs).

  /usr/bin/python3 models/codec/train.py --data ../shared/data/codec-train --out models
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import kodak_patches, psnr, sample_training_patches, sha256, write_manifest  # noqa: E402
import onnx  # noqa: E402
import onnx_export  # noqa: E402
from pq import PQCodec, kmeans, make_groups, pca  # noqa: E402

LEVELS = {12: 1, 24: 2, 48: 3}


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_decoder(codec, codes, x, codes_val, x_val, hidden, epochs, seed, log, batch=512, lr=2e-3):
    """Fit decoder tables T_g, linear map W and a ReLU MLP residual on fixed codes (MSE)."""
    torch.manual_seed(seed)
    G = codec.n_bytes
    T = [torch.nn.Parameter(torch.from_numpy(t.copy())) for t in codec.T]
    W = torch.nn.Parameter(torch.from_numpy(codec.W.copy()))
    bw = torch.nn.Parameter(torch.from_numpy(codec.bw.copy()))
    D = codec.latent_dim
    params = T + [W, bw]
    if hidden:
        W1 = torch.nn.Parameter(torch.randn(D, hidden) * (1.0 / np.sqrt(D)))
        b1 = torch.nn.Parameter(torch.zeros(hidden))
        W2 = torch.nn.Parameter(torch.zeros(hidden, 192))
        b2 = torch.nn.Parameter(torch.zeros(192))
        params += [W1, b1, W2, b2]
    codes_t = torch.from_numpy(codes.astype(np.int64))
    x_t = torch.from_numpy(x.astype(np.float32) / 255.0)

    def forward(c):
        t = torch.cat([T[g][c[:, g]] for g in range(G)], 1)
        y = t @ W + bw
        if hidden:
            y = y + torch.relu(t @ W1 + b1) @ W2 + b2
        return y

    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * (len(x_t) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        perm = torch.randperm(len(x_t), generator=g)
        tot = 0.0
        for i in range(len(x_t) // batch):
            b = perm[i * batch:(i + 1) * batch]
            loss = torch.mean((forward(codes_t[b]).clamp(0, 1) - x_t[b]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        codec.T = [t.detach().numpy().copy() for t in T]
        codec.W, codec.bw = W.detach().numpy().copy(), bw.detach().numpy().copy()
        if hidden:
            codec.W1, codec.b1 = W1.detach().numpy().copy(), b1.detach().numpy().copy()
            codec.W2, codec.b2 = W2.detach().numpy().copy(), b2.detach().numpy().copy()
        val = psnr(codec.decode(codes_val), x_val, 255, 1)
        log(f"    decoder epoch {ep + 1}/{epochs} train loss {tot / (len(x_t) // batch):.6f} "
            f"train PSNR {10 * np.log10(len(x_t) // batch / tot):.2f} held-out PSNR {val:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "..", "shared", "data", "codec-train"))
    ap.add_argument("--out", default=os.path.join(here, ".."))
    ap.add_argument("--levels", default="12,24,48")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-image", type=int, default=600, help="random patches per training image")
    ap.add_argument("--kmeans-samples", type=int, default=250000)
    ap.add_argument("--kmeans-iters", type=int, default=20)
    ap.add_argument("--hidden", default="12:0,24:0,48:0",
                    help="decoder residual MLP width per level, e.g. 12:128 (0 = linear decoder; default)")
    ap.add_argument("--epochs", type=int, default=0,
                    help="decoder fine-tuning epochs on fixed codes (0 = pure PQ decoder; default)")
    ap.add_argument("--kodak", default=None, help="optional Kodak folder: record kodakPsnr in the manifest "
                    "(evaluation only, never used for training)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t_start = time.time()

    def log(msg):
        print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    seed_all(args.seed)
    x, x_val = sample_training_patches(args.data, args.per_image, args.seed)
    log(f"training patches {x.shape[0]} (random crops + flips/transposes), held-out grid patches {x_val.shape[0]}")
    mu, basis, ev = pca(x.astype(np.float64) / 255.0)
    z = ((x.astype(np.float32) / 255.0) - mu.astype(np.float32)) @ basis.astype(np.float32)
    hidden = {int(k): int(v) for k, v in (kv.split(":") for kv in args.hidden.split(","))}
    os.makedirs(args.out, exist_ok=True)
    kodak = kodak_patches(args.kodak) if args.kodak else None
    entries = []
    for nbytes in [int(v) for v in args.levels.split(",")]:
        seed_all(args.seed + nbytes)
        groups, bits = make_groups(ev, nbytes)
        log(f"level {nbytes} B: {sum(len(g) for g in groups)} PCA dims, group sizes {[len(g) for g in groups]}")
        books = []
        for gi, g in enumerate(groups):
            books.append(kmeans(z[:args.kmeans_samples][:, g], args.kmeans_iters, args.seed * 1000 + nbytes * 64 + gi))
        codec = PQCodec(mu, basis, groups, books)
        codes, codes_val = codec.encode(x.astype(np.float32) / 255.0), codec.encode(x_val.astype(np.float32) / 255.0)
        log(f"  k-means done; PQ held-out PSNR {psnr(codec.decode(codes_val), x_val, 255, 1):.2f}")
        if args.epochs > 0:
            train_decoder(codec, codes, x, codes_val, x_val, hidden.get(nbytes, 0), args.epochs,
                          args.seed + nbytes, log)
        # export + check against the numpy reference with the numpy ONNX interpreter
        name = f"codec-L{nbytes}"
        enc, enc_inf = onnx_export.build_encoder(codec, name + "-enc")
        dec, dec_inf = onnx_export.build_decoder(codec, name + "-dec")
        enc_path, dec_path = os.path.join(args.out, name + "-enc.onnx"), os.path.join(args.out, name + "-dec.onnx")
        onnx.save(enc, enc_path)
        onnx.save(dec, dec_path)
        test = x_val[:: max(1, len(x_val) // 20000)].astype(np.float32) / 255.0
        ref_code = codec.encode(test)
        (onnx_code,) = onnx_export.run(onnx.load(enc_path), {"patches": test})
        assert onnx_code.dtype == np.uint8 and onnx_code.shape == (len(test), nbytes)
        mismatch = int((onnx_code != ref_code).sum())
        (onnx_dec,) = onnx_export.run(onnx.load(dec_path), {"code": ref_code})
        err = float(np.abs(onnx_dec - codec.decode(ref_code)).max())
        assert onnx_dec.dtype == np.float32 and onnx_dec.shape == (len(test), 192)
        log(f"  ONNX check: encoder byte mismatches {mismatch}/{ref_code.size}, decoder max |diff| {err:.2e}")
        assert mismatch == 0 and err <= 1e-5
        val_psnr = psnr(codec.decode(codec.encode(x_val.astype(np.float32) / 255.0)), x_val, 255, 1)
        entry = {
            "id": name, "kind": "patch-codec", "level": LEVELS.get(nbytes, 0), "bytes": nbytes,
            "encoder": {"file": os.path.basename(enc_path), "sha256": sha256(enc_path),
                        "inputs": [{"name": "patches", "dtype": "float32", "shape": ["N", 192]}],
                        "outputs": [{"name": "code", "dtype": "uint8", "shape": ["N", nbytes]}]},
            "decoder": {"file": os.path.basename(dec_path), "sha256": sha256(dec_path),
                        "inputs": [{"name": "code", "dtype": "uint8", "shape": ["N", nbytes]}],
                        "outputs": [{"name": "patches", "dtype": "float32", "shape": ["N", 192]}]},
            "pixels": {"layout": "HWC 8x8x3 row-major RGB", "scale": "value/255", "range": [0, 1]},
            "symbols": f"{nbytes} x 8-bit: byte g = index of a 256-entry k-means codebook over PCA "
                       f"dims group g (product quantisation, {codec.latent_dim} PCA dims in groups of "
                       f"{[len(g) for g in groups]})",
            "macsPerPatch": codec.macs(),
            "decoderHidden": hidden.get(nbytes, 0) if args.epochs > 0 else 0,
            "opset": onnx_export.OPSET,
            "training": {"data": "codec-train (822 photos: BSDS500 + COCO train2017)",
                         "command": "/usr/bin/python3 models/codec/train.py --data ../shared/data/codec-train "
                                    "--out models --kodak ../shared/data/kodak",
                         "seed": args.seed, "epochs": args.kmeans_iters, "samples": int(len(x)),
                         "epochsNote": "Lloyd k-means iterations per codebook",
                         "decoderEpochs": args.epochs,
                         "kmeansSamples": int(min(args.kmeans_samples, len(x))), "kmeansIters": args.kmeans_iters},
            "heldOutPsnr": round(val_psnr, 3),
        }
        if kodak is not None:
            (kc,) = onnx_export.run(onnx.load(enc_path), {"patches": kodak.astype(np.float32) / 255.0})
            (kd,) = onnx_export.run(onnx.load(dec_path), {"code": kc})
            entry["kodakPsnr"] = round(psnr(kd, kodak, 255, 1), 3)
        log(f"  level {nbytes} B done: held-out PSNR {val_psnr:.2f}, Kodak PSNR {entry.get('kodakPsnr')}, "
            f"MACs {entry['macsPerPatch']}, files {os.path.getsize(enc_path)} / {os.path.getsize(dec_path)} bytes")
        entries.append(entry)

    man_path = os.path.join(args.out, "manifest.json")
    manifest = {"version": 1, "models": []}
    if os.path.exists(man_path):
        with open(man_path) as f:
            manifest = json.load(f)
    new_ids = {e["id"] for e in entries}
    # keep every other entry (e.g. the detector) as it is, in its place; codec entries follow, by level
    others = [m for m in manifest.get("models", []) if m.get("id") not in new_ids]
    kept = [m for m in others if m.get("kind") == "patch-codec"]  # codec levels not retrained this run
    manifest["models"] = [m for m in others if m.get("kind") != "patch-codec"] + sorted(
        kept + entries, key=lambda m: (m.get("level", 0), m.get("id", "")))
    write_manifest(man_path, manifest)
    log(f"wrote {man_path}; total training wall time {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
