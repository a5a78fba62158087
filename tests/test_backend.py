import numpy as np
import pytest

from gdcourse import backend as B


def test_asarray_lands_on_active_backend(backend):
    x = B.asarray([1.0, 2.0, 3.0], dtype="float32")
    assert B.array_namespace(x) is B.array_namespace(backend.xp.asarray([0.0]))
    assert B.dtype_of(x) == "float32"
    np.testing.assert_array_equal(B.to_numpy(x), np.array([1, 2, 3], dtype=np.float32))


def test_random_numbers_are_identical_on_every_backend(backend):
    host = np.random.default_rng(7).normal(size=(4, 3))
    moved = B.to_numpy(B.random_normal((4, 3), seed=7))
    np.testing.assert_array_equal(moved, host)


def test_float32_stays_float32(backend):
    x = B.random_uniform(5, seed=1, dtype="float32")
    assert B.dtype_of(x) == "float32"
    assert B.dtype_of(x * 2.0) == "float32"


def test_is_finite(backend):
    assert B.is_finite(B.asarray([1.0, 2.0]))
    assert not B.is_finite(B.asarray([1.0, float("nan")]))
    assert not B.is_finite(B.asarray([float("inf")]))


def test_strict_device_rejects_hidden_numpy_calls():
    """The reason the strict backend is in the suite: NumPy cannot silently read device1 arrays."""
    with B.using("array_api_strict:device1"):
        x = B.asarray([1.0, 2.0])
        with pytest.raises((RuntimeError, TypeError)):
            np.sum(x)


def test_using_restores_previous_backend():
    before = B.current()
    with B.using("array_api_strict"):
        assert B.current().name == "array_api_strict"
    assert B.current() is before


@pytest.mark.parametrize("bad", ["", "not_a_library", "numpy:device1"])
def test_unknown_backend_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="backend"):
        B.use(bad)


def test_bad_seed_and_dtype_are_named():
    with pytest.raises(ValueError, match="seed"):
        B.rng(-1)
    with pytest.raises(ValueError, match="dtype"):
        B.asarray([1.0], dtype="float33")


def test_array_module_creates_on_the_backend_device(backend):
    xp = B.array_module()
    made = [xp.zeros(3), xp.ones(3), xp.asarray([1.0, 2.0, 3.0]), xp.linspace(0.0, 1.0, 3), xp.arange(3.0),
            xp.full(3, 2.0), xp.empty(3)]
    reference = B.asarray([0.0, 0.0, 0.0])
    for x in made:
        assert getattr(x, "device", None) == getattr(reference, "device", None)
        _ = x + reference  # same device: no error
    np.testing.assert_allclose(B.to_numpy(xp.sqrt(xp.asarray([4.0, 9.0]))), [2.0, 3.0])
    assert B.to_numpy(xp.eye(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_array_module_of_the_strict_device_keeps_an_explicit_device():
    import array_api_strict

    with B.using("array_api_strict:device1"):
        xp = B.array_module()
        assert xp.zeros(2).device == array_api_strict.Device("device1")
        assert xp.zeros(2, device=array_api_strict.Device("CPU_DEVICE")).device == array_api_strict.Device("CPU_DEVICE")
        assert "device1" in repr(xp)
