#!/usr/bin/python3
"""The NumPy peer of the vector-backprop case: notes 004's network as the document writes it (with the He
initialisation that produced its printed costs), 2000 iterations. Prints one JSON object with seconds and the costs.
Usage: peer_numpy.py ITERATIONS
"""
import json
import sys
import time

import numpy as np

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
np.random.seed(1)
X = np.random.rand(12288, 200)
Y = np.random.rand(1, 200)
layers_dims = [12288, 20, 7, 5, 1]
L = len(layers_dims) - 1
np.random.seed(10)
W = [None] + [np.random.randn(layers_dims[l], layers_dims[l - 1]) * (np.sqrt(2 / layers_dims[l - 1]) if l < L else 0.01) for l in range(1, L + 1)]
b = [None] + [np.zeros((layers_dims[l], 1)) for l in range(1, L + 1)]
m, lr, lambd = X.shape[1], 0.01, 0.0
costs = []
t0 = time.perf_counter()
for i in range(iterations):
    A = [X] + [None] * L
    Z = [None] * (L + 1)
    for l in range(1, L + 1):
        Z[l] = np.dot(W[l], A[l - 1]) + b[l]
        A[l] = np.maximum(0, Z[l]) if l < L else 1 / (1 + np.exp(-Z[l]))
    cost = -1 / m * (np.dot(np.log(A[L]), Y.T) + np.dot(np.log(1 - A[L]), 1 - Y.T))
    cost = float(np.squeeze(cost)) + sum(np.sum(np.square(W[l])) for l in range(1, L + 1)) * lambd / (2 * m)
    dA = np.divide(1 - Y, 1 - A[L]) - np.divide(Y, A[L])
    for l in reversed(range(1, L + 1)):
        if l == L:
            dz = dA * A[l] * (1 - A[l])
        else:
            dz = dA.copy()
            dz[Z[l] <= 0] = 0
        dw = 1 / m * np.dot(dz, A[l - 1].T) + W[l] * lambd / m
        db = 1 / m * np.sum(dz, axis=1, keepdims=True)
        dA = np.dot(W[l].T, dz)
        W[l] = W[l] - lr * dw
        b[l] = b[l] - lr * db
    if i % 100 == 0:
        costs.append(cost)
seconds = time.perf_counter() - t0
print(json.dumps({"case": "vector-backprop", "peer": "numpy", "numpy": np.__version__, "iterations": iterations,
                  "seconds": seconds, "costs": costs}))
