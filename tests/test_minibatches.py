"""Batch, stochastic and minibatch iteration (gdcourse.data): each example once per epoch, sizes, seeded orders."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import device

from gdcourse.backend import array_namespace, to_numpy
from gdcourse.data import Minibatches, iterate_minibatches, minibatch_indices

N = 23  # a prime: no batch size between 2 and 22 divides it, so there is always a partial last batch


def dataset(to_backend, n=N):
    """X row i is (i, -i, 0.5 i); y_i = i: a batch's y tells which rows it took, and X must agree."""
    i = np.arange(n, dtype=np.float64)
    return to_backend(np.stack([i, -i, 0.5 * i], axis=1)), to_backend(i)


def expected_sizes(n, batch_size, drop_last):
    size = n if batch_size is None else min(batch_size, n)
    sizes = [size] * (n // size)
    if n % size and not drop_last:
        sizes.append(n % size)
    return sizes


def collect(batches):
    """Host copies of the (X_batch, y_batch) pairs."""
    return [(to_numpy(xb), to_numpy(yb)) for xb, yb in batches]


# ----------------------------------------------------------------------------- one epoch


SIZES = [(b, d) for b in (1, 2, 5, 8, 22, N, 40, None) for d in (False, True) if not (d and b == 40)]  # 40: an error


@pytest.mark.parametrize(("batch_size", "drop_last"), SIZES)
def test_every_example_once_per_epoch_with_the_right_sizes(backend, to_backend, batch_size, drop_last):
    X, y = dataset(to_backend)
    batches = list(iterate_minibatches(X, y, batch_size, drop_last=drop_last, seed=3))
    sizes = expected_sizes(N, batch_size, drop_last)
    assert [int(xb.shape[0]) for xb, _ in batches] == sizes
    assert [int(yb.shape[0]) for _, yb in batches] == sizes
    for xb, yb in batches:  # the batches live where the data lives, and rows of X and y stay paired
        assert array_namespace(xb) is array_namespace(X) and device(xb) == device(X)
        assert device(yb) == device(y)
        np.testing.assert_array_equal(to_numpy(xb)[:, 0], to_numpy(yb))
        np.testing.assert_array_equal(to_numpy(xb)[:, 1], -to_numpy(yb))
    seen = np.concatenate([to_numpy(yb) for _, yb in batches]).astype(int)
    assert len(seen) == len(set(seen.tolist())) == sum(sizes)  # no example twice
    if not drop_last or sum(sizes) == N:
        assert sorted(seen.tolist()) == list(range(N))  # every example exactly once


def test_stochastic_is_batch_size_one_and_full_batch_is_the_data_itself(backend, to_backend):
    X, y = dataset(to_backend)
    online = list(iterate_minibatches(X, y, 1, seed=0))
    assert len(online) == N and all(xb.shape == (1, 3) for xb, _ in online)
    for size in (None, N, 2 * N):
        ((xb, yb),) = list(iterate_minibatches(X, y, size, seed=0))
        assert xb is X and yb is y  # stored order, no copy: B = n is exactly full-batch descent


def test_minibatch_indices_cut_a_seeded_permutation():
    perm = np.random.default_rng(7).permutation(10)
    batches = minibatch_indices(10, 4, seed=7)
    assert [b.tolist() for b in batches] == [perm[:4].tolist(), perm[4:8].tolist(), perm[8:].tolist()]
    assert [b.tolist() for b in minibatch_indices(10, 4, seed=7, drop_last=True)] == [perm[:4].tolist(),
                                                                                     perm[4:8].tolist()]
    assert [b.tolist() for b in minibatch_indices(5, 2, shuffle=False)] == [[0, 1], [2, 3], [4]]
    assert all(b.dtype == np.int64 for b in batches)


def test_without_shuffle_the_stored_order_is_kept(to_backend):
    X, y = dataset(to_backend)
    got = np.concatenate([yb for _, yb in collect(iterate_minibatches(X, y, 5, shuffle=False))])
    np.testing.assert_array_equal(got, np.arange(N))


def test_same_seed_same_order_other_seed_other_order(backend, to_backend):
    X, y = dataset(to_backend)

    def order(seed):
        return np.concatenate([yb for _, yb in collect(iterate_minibatches(X, y, 4, seed=seed))]).tolist()

    assert order(5) == order(5)
    assert order(5) != order(6)


def test_a_shared_generator_gives_a_fresh_order_every_epoch(to_backend):
    X, y = dataset(to_backend)
    gen = np.random.default_rng(0)
    epochs = [np.concatenate([yb for _, yb in collect(iterate_minibatches(X, y, 4, seed=gen))]).tolist()
              for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]
    assert all(sorted(e) == list(range(N)) for e in epochs)


def test_without_y_the_target_batches_are_none(to_backend):
    X, _ = dataset(to_backend)
    batches = list(iterate_minibatches(X, batch_size=10, seed=0))
    assert [yb for _, yb in batches] == [None, None, None]
    assert sum(int(xb.shape[0]) for xb, _ in batches) == N


def test_one_dimensional_data_is_batched_too(to_backend):
    _, y = dataset(to_backend)
    ((yb, none), *_) = list(iterate_minibatches(y, None, 6, seed=1))
    assert yb.shape == (6,) and none is None


# ----------------------------------------------------------------------------- several epochs


def test_epochs_have_different_orders_and_are_reproducible(backend, to_backend):
    X, y = dataset(to_backend)
    batches = Minibatches(X, y, batch_size=4, seed=11)
    assert batches.n_batches == len(batches) == 6  # ceil(23 / 4)
    orders = [np.concatenate([yb for _, yb in collect(batches.epoch(e))]).tolist() for e in range(4)]
    assert len({tuple(o) for o in orders}) == 4  # a fresh permutation every epoch
    assert all(sorted(o) == list(range(N)) for o in orders)  # every example once per epoch
    # random access: epoch 2 asked for again, after epoch 3, and from a new object with the same seed
    again = np.concatenate([yb for _, yb in collect(batches.epoch(2))]).tolist()
    fresh = Minibatches(X, y, batch_size=4, seed=11)
    jumped = np.concatenate([yb for _, yb in collect(fresh.epoch(3))]).tolist()
    assert again == orders[2] and jumped == orders[3]
    other = Minibatches(X, y, batch_size=4, seed=12)
    assert np.concatenate([yb for _, yb in collect(other.epoch(0))]).tolist() != orders[0]


def test_minibatches_epochs_are_successive_iterate_calls_with_one_generator(to_backend):
    X, y = dataset(to_backend)
    batches = Minibatches(X, y, batch_size=5, seed=4)
    gen = np.random.default_rng(4)
    for e in range(3):
        direct = collect(iterate_minibatches(X, y, 5, seed=gen))
        via_object = collect(batches.epoch(e))
        assert len(direct) == len(via_object)
        for (xa, ya), (xb, yb) in zip(direct, via_object, strict=True):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    assert [b.tolist() for b in batches.indices(0)] == [b.tolist() for b in minibatch_indices(N, 5, seed=4)]


def test_drop_last_in_every_epoch(to_backend):
    X, y = dataset(to_backend)
    batches = Minibatches(X, y, batch_size=5, drop_last=True, seed=0)
    assert batches.n_batches == 4
    dropped = set()
    for e in range(6):
        sizes = [int(xb.shape[0]) for xb, _ in batches.epoch(e)]
        assert sizes == [5, 5, 5, 5]
        seen = set(np.concatenate([yb for _, yb in collect(batches.epoch(e))]).astype(int).tolist())
        dropped |= set(range(N)) - seen
    assert len(dropped) > 3  # a different remainder is left out each epoch, not always the same 3 examples


def test_a_generator_seed_gives_a_child_seed_and_advances():
    X = np.zeros((N, 1))
    gen = np.random.default_rng(0)
    a, b = Minibatches(X, batch_size=4, seed=gen), Minibatches(X, batch_size=4, seed=gen)
    assert [i.tolist() for i in a.indices(0)] != [i.tolist() for i in b.indices(0)]


def test_full_batch_epochs_are_the_data_in_order():
    X = np.arange(6.0)[:, None]
    batches = Minibatches(X, batch_size=None)
    assert batches.batch_size == 6 and batches.n_batches == 1
    for e in range(3):
        ((xb, yb),) = list(batches.epoch(e))
        assert xb is X and yb is None
    assert repr(batches) == "Minibatches(n_samples=6, batch_size=6, n_batches=1, shuffle=True, drop_last=False)"


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_batch_size_is_named(bad):
    X = np.zeros((N, 2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(iterate_minibatches(X, batch_size=bad))
    with pytest.raises(ValueError, match="batch_size"):
        Minibatches(X, batch_size=bad)


def test_batch_larger_than_the_data_with_drop_last_is_an_error():
    with pytest.raises(ValueError, match=r"batch_size=30 is larger than the 23 samples.*drop_last=True"):
        list(iterate_minibatches(np.zeros((N, 2)), batch_size=30, drop_last=True))


def test_length_mismatch_is_named():
    with pytest.raises(ValueError, match="X has 23 samples but y has 22"):
        list(iterate_minibatches(np.zeros((N, 2)), np.zeros(22), 4))
    with pytest.raises(ValueError, match="X has 23 samples but y has 22"):
        Minibatches(np.zeros((N, 2)), np.zeros(22), 4)


def test_other_bad_input():
    with pytest.raises(TypeError, match="X must be an array"):
        list(iterate_minibatches([[1.0], [2.0]], batch_size=1))
    with pytest.raises(ValueError, match="first axis of samples"):
        list(iterate_minibatches(np.float64(1.0), batch_size=1))
    with pytest.raises(ValueError, match="no samples"):
        list(iterate_minibatches(np.zeros((0, 2)), batch_size=1))
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        minibatch_indices(0, 1)
    with pytest.raises(ValueError, match="epoch must be a non-negative integer"):
        Minibatches(np.zeros((3, 1)), batch_size=1).indices(-1)
    with pytest.raises(ValueError, match="seed"):
        minibatch_indices(5, 2, seed=-3)


def test_the_notebook_exercise_is_minibatch_indices():
    from gdcourse.exercises.catalog.nb05 import minibatches

    for n, size, seed in [(31, 3, 0), (205, 8, 1), (20, 5, 2), (7, 1, 3)]:
        expected = minibatch_indices(n, size, seed=seed)
        got = minibatches(n, size, seed)
        assert [b.tolist() for b in got] == [b.tolist() for b in expected]
