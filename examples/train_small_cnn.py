"""Train a small cs231n-style CNN with im2col_ext.layers on a synthetic data set it draws itself.

The network is conv 3x3 - ReLU - 2x2 max pool - affine - softmax, trained
with SGD + momentum on 16x16 grey images of line segments in four
orientations (horizontal, vertical, diagonal, anti-diagonal) at random
positions, lengths and thicknesses, with noise.  No download.  It prints
the loss per epoch, the final train / validation accuracy and the backend
doing the im2col work.

    python examples/train_small_cnn.py            # about a second on 2 cores
    python examples/train_small_cnn.py --quick    # a shorter run, for tests
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import im2col_ext
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import im2col_ext
from im2col_ext import layers

CLASSES = ("horizontal", "vertical", "diagonal", "anti-diagonal")


def make_data(n, size, rng):
    """``n`` noisy ``size x size`` images of line segments, labels 0..3 (see CLASSES)."""
    x = np.zeros((n, 1, size, size))
    y = rng.integers(0, len(CLASSES), n)
    for img, label in zip(x[:, 0], y):
        length = rng.integers(size // 2, size - 1)
        thick = rng.integers(1, 3)
        r0, c0 = rng.integers(0, size - length, 2)
        t = np.arange(length)
        for k in range(thick):
            if label == 0:
                rows, cols = np.full(length, r0 + k), c0 + t
            elif label == 1:
                rows, cols = r0 + t, np.full(length, c0 + k)
            elif label == 2:
                rows, cols = r0 + t, c0 + t + k
            else:
                rows, cols = r0 + t, c0 + length - 1 - t + k
            keep = (rows < size) & (cols < size)
            img[rows[keep], cols[keep]] = 1.0
    x += 0.3 * rng.standard_normal(x.shape)
    return x - x.mean(), y


def softmax_loss(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


class SmallCNN:
    """conv(F filters 3x3, pad 1) - ReLU - max pool 2x2 - affine - softmax."""

    def __init__(self, size, filters, classes, rng, reg=1e-4):
        self.params = {
            "w1": rng.standard_normal((filters, 1, 3, 3)) * np.sqrt(2 / 9),
            "b1": np.zeros(filters),
            "w2": rng.standard_normal((filters * (size // 2) ** 2, classes))
            * np.sqrt(1 / (filters * (size // 2) ** 2)),
            "b2": np.zeros(classes),
        }
        self.reg = reg

    def scores(self, x):
        p = self.params
        conv, conv_cache = layers.conv2d_forward(x, p["w1"], p["b1"], padding=1)
        relu = np.maximum(conv, 0)
        pool, pool_cache = layers.max_pool2d_forward(relu, 2)
        flat = pool.reshape(len(x), -1)
        scores = flat @ p["w2"] + p["b2"]
        return scores, (conv_cache, conv, pool_cache, pool.shape, flat)

    def loss(self, x, y):
        p = self.params
        scores, (conv_cache, conv, pool_cache, pool_shape, flat) = self.scores(x)
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(p["w1"] ** 2) + np.sum(p["w2"] ** 2))
        grads = {
            "w2": flat.T @ dscores + self.reg * p["w2"],
            "b2": dscores.sum(axis=0),
        }
        dpool = (dscores @ p["w2"].T).reshape(pool_shape)
        drelu = layers.max_pool2d_backward(dpool, pool_cache)
        dconv = drelu * (conv > 0)
        _, dw1, db1 = layers.conv2d_backward(dconv, conv_cache)
        grads["w1"] = dw1 + self.reg * p["w1"]
        grads["b1"] = db1
        return loss, grads

    def predict(self, x):
        return self.scores(x)[0].argmax(axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=800)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--filters", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a short run (400 samples, 5 epochs), for tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.epochs = 400, 5

    rng = np.random.default_rng(args.seed)
    x, y = make_data(args.samples, args.size, rng)
    n_train = int(0.8 * args.samples)
    x_train, y_train, x_val, y_val = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    model = SmallCNN(args.size, args.filters, len(CLASSES), rng)
    velocity = {k: np.zeros_like(v) for k, v in model.params.items()}

    print(f"backend: {im2col_ext.backend}")
    print(f"data: {n_train} train / {len(x_val)} validation images of "
          f"{args.size}x{args.size}, {len(CLASSES)} classes")
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(n_train)
        losses = []
        for i in range(0, n_train, args.batch):
            idx = order[i:i + args.batch]
            loss, grads = model.loss(x_train[idx], y_train[idx])
            losses.append(loss)
            for k, g in grads.items():
                velocity[k] = args.momentum * velocity[k] - args.lr * g
                model.params[k] += velocity[k]
        val_acc = np.mean(model.predict(x_val) == y_val)
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, validation accuracy {val_acc:.3f}")
    train_acc = np.mean(model.predict(x_train) == y_train)
    val_acc = np.mean(model.predict(x_val) == y_val)
    print(f"final: train accuracy {train_acc:.3f}, validation accuracy {val_acc:.3f} "
          f"(chance {1 / len(CLASSES):.3f}), {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
