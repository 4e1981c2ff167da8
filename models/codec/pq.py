"""Product-quantised PCA patch codec (one byte = one 256-entry VQ index) plus an optional
residual MLP in the decoder. Pure numpy reference implementation of encode/decode, used to
check the ONNX graphs built in onnx_export.py."""
import numpy as np
import torch

K = 256  # codewords per group: one byte per group


def pca(x):
    """x float64 [n,192] -> (mean [192], basis [192,192] columns sorted by variance, variances)."""
    mu = x.mean(0)
    c = np.cov((x - mu).T)
    ev, v = np.linalg.eigh(c)
    o = np.argsort(ev)[::-1]
    return mu, v[:, o], ev[o]


def waterfill(ev, bits, cap=8.0):
    """Reverse water-filling bit allocation (Gaussian model) of `bits` bits over variances `ev`."""
    lo, hi = 1e-14, float(ev.max())
    for _ in range(200):
        th = np.sqrt(lo * hi)
        b = np.clip(0.5 * np.log2(ev / th), 0, cap)
        if b.sum() > bits:
            lo = th
        else:
            hi = th
    return b


def make_groups(ev, n_groups, min_bits=0.05):
    """Split PCA dimensions (in variance order) into n_groups consecutive groups carrying
    ~8 allocated bits each; dimensions whose allocation is < min_bits are dropped."""
    b = waterfill(ev, 8 * n_groups)
    mid = np.cumsum(b) - b / 2
    gid = np.minimum(np.floor(mid / 8).astype(int), n_groups - 1)
    keep = b > min_bits
    groups = [np.where((gid == g) & keep)[0] for g in range(n_groups)]
    assert all(len(g) > 0 for g in groups), [len(g) for g in groups]
    return groups, b


def _assign(x, c, chunk=65536):
    cc = (c * c).sum(1)
    out = []
    for i in range(0, len(x), chunk):
        out.append((cc[None] - 2 * x[i:i + chunk] @ c.T).argmin(1))
    return torch.cat(out)


def kmeans(x, iters, seed):
    """Plain Lloyd k-means with K=256 codewords on float32 [n,d]; empty cells are re-seeded."""
    g = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    c = x[torch.randperm(len(x), generator=g)[:K]].clone()
    for _ in range(iters):
        a = _assign(x, c)
        s = torch.zeros_like(c).index_add_(0, a, x)
        n = torch.bincount(a, minlength=K).float()
        fresh = x[torch.randint(len(x), (K,), generator=g)]
        c = torch.where((n == 0)[:, None], fresh, s / n.clamp(min=1)[:, None])
    return c.numpy()


class PQCodec:
    """Encoder: z_g = x @ P_g + b_g (P_g = PCA columns of group g, b_g = -mu @ P_g), byte g =
    argmin_k ||z_g - C_g[k]||^2 computed as argmin_k (x@P_g+b_g) @ (-2 C_g^T) + |C_g[k]|^2.
    Decoder: t = concat_g T_g[byte_g]; y = clip(t @ W + bw + relu(t @ W1 + b1) @ W2 + b2, 0, 1)
    (the MLP term is absent when hidden == 0)."""

    def __init__(self, mu, basis, groups, codebooks):
        self.groups = groups
        idx = np.concatenate(groups)
        self.P = basis[:, idx].astype(np.float32)  # [192, D], all groups side by side
        self.Pb = (-mu @ basis[:, idx]).astype(np.float32)
        self.offsets = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)
        self.C = [c.astype(np.float32) for c in codebooks]
        self.Cm2 = [(-2.0 * c.T).astype(np.float32) for c in self.C]
        self.Cn = [(c * c).sum(1).astype(np.float32) for c in self.C]
        # decoder (initially the linear PCA inverse on the encoder's codewords)
        self.T = [c.copy() for c in self.C]
        self.W = basis[:, idx].T.astype(np.float32)
        self.bw = mu.astype(np.float32)
        self.W1 = self.b1 = self.W2 = self.b2 = None

    @property
    def n_bytes(self):
        return len(self.groups)

    @property
    def latent_dim(self):
        return int(sum(len(g) for g in self.groups))

    def encode(self, x):
        """x float32 [n,192] in [0,1] -> uint8 [n,G]"""
        x = np.asarray(x, dtype=np.float32)
        out = np.empty((len(x), self.n_bytes), dtype=np.uint8)
        z_all = x @ self.P + self.Pb
        for g in range(self.n_bytes):
            z = z_all[:, self.offsets[g]:self.offsets[g + 1]]
            out[:, g] = np.argmin(z @ self.Cm2[g] + self.Cn[g], axis=1)
        return out

    def latent(self, code):
        return np.concatenate([self.T[g][code[:, g].astype(np.int64)] for g in range(self.n_bytes)], 1)

    def decode(self, code):
        t = self.latent(code)
        y = t @ self.W + self.bw
        if self.W1 is not None:
            y = y + np.maximum(t @ self.W1 + self.b1, 0) @ self.W2 + self.b2
        return np.clip(y, 0, 1).astype(np.float32)

    def macs(self):
        d, h = self.latent_dim, (0 if self.W1 is None else self.W1.shape[1])
        enc = 192 * d + K * d
        dec = d * 192 + d * h + h * 192
        return {"encoder": int(enc), "decoder": int(dec)}
