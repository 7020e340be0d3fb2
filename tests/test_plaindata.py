"""filmkit.plaindata's plain-data codec: exact round trips, refusals, and hostile input to decode.

"Exact" is checked by :func:`assert_same`: same types all the way down, same dtypes, same float
bits (so -0.0 and NaN payloads count), same index classes, names and freqs.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import decimal
import json
import math
import struct
import sys
import time
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra import pandas as hpd

from filmkit import plaindata
from filmkit.plaindata import MAX_DEPTH, MalformedData, NotPlainData, decode, encode

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wire(value: object, **kw: Any) -> Any:
    """encode, then through strict JSON text (no NaN tokens) as the framing will send it."""
    return json.loads(json.dumps(encode(value, name="answer", **kw), allow_nan=False))


def roundtrip(value: object) -> Any:
    out = decode(wire(value))
    assert_same(value, out)
    return out


# ---- exact equality


def _bits(x: float) -> bytes:
    return struct.pack(">d", x)


def _same_elements(a: Any, b: Any) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert_same(x, y)


def _same_index(a: pd.Index[Any], b: pd.Index[Any]) -> None:
    pd.testing.assert_index_equal(
        a, b, exact=True, check_names=True, check_exact=True, check_categorical=True
    )
    assert a.dtype == b.dtype
    assert a.names == b.names
    if isinstance(a, pd.MultiIndex):
        assert isinstance(b, pd.MultiIndex)
        for la, lb in zip(a.levels, b.levels, strict=True):
            _same_index(la, lb)
        for ca, cb in zip(a.codes, b.codes, strict=True):
            np.testing.assert_array_equal(ca, cb)
    elif isinstance(a, pd.RangeIndex):
        assert (a.start, a.stop, a.step) == (b.start, b.stop, b.step)  # type: ignore[attr-defined]
    elif a.dtype == object:
        _same_elements(list(a), list(b))
    elif isinstance(a.dtype, np.dtype):
        assert a.to_numpy().tobytes() == b.to_numpy().tobytes()
    if isinstance(a, pd.DatetimeIndex | pd.TimedeltaIndex):
        assert a.freq == b.freq  # type: ignore[union-attr]
    if isinstance(a, pd.CategoricalIndex):
        _same_index(a.categories, b.categories)  # type: ignore[attr-defined]


def _same_values(a: Any, b: Any) -> None:
    """The values of two Series (or columns): dtype, then elements or bits."""
    assert a.dtype == b.dtype
    if a.dtype == object:
        _same_elements(a.tolist(), b.tolist())
    elif isinstance(a.dtype, np.dtype):
        assert a.to_numpy().tobytes() == b.to_numpy().tobytes()
    elif isinstance(a.dtype, pd.CategoricalDtype):
        _same_index(a.cat.categories, b.cat.categories)


def assert_same(a: Any, b: Any) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if type(a) is float:
        assert _bits(a) == _bits(b)
    elif type(a) is complex:
        assert (_bits(a.real), _bits(a.imag)) == (_bits(b.real), _bits(b.imag))
    elif type(a) in (list, tuple):
        _same_elements(a, b)
    elif type(a) is dict:
        _same_elements(list(a), list(b))
        _same_elements(list(a.values()), list(b.values()))
    elif type(a) in (set, frozenset):
        assert len(a) == len(b)
        rest = list(b)
        for x in a:
            for n, y in enumerate(rest):
                try:
                    assert_same(x, y)
                except AssertionError:
                    continue
                del rest[n]
                break
            else:
                raise AssertionError(f"{x!r} has no match in {b!r}")
    elif type(a) is np.ndarray:
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            _same_elements(list(a.reshape(-1)), list(b.reshape(-1)))
        elif a.dtype.kind == "T":
            _same_elements(a.reshape(-1).tolist(), b.reshape(-1).tolist())
        else:
            assert a.tobytes() == b.tobytes()
            if a.flags.f_contiguous and not a.flags.c_contiguous:
                assert b.flags.f_contiguous
    elif isinstance(a, np.str_ | np.bytes_):
        assert a == b and a.item() == b.item()  # type: ignore[comparison-overlap]
    elif isinstance(a, np.longdouble | np.clongdouble):
        # their padding bytes are not copied even by numpy itself: compare values
        assert np.array(a).dtype == np.array(b).dtype
        assert a == b or (np.isnan(a) and np.isnan(b))
    elif isinstance(a, np.generic):
        assert np.array(a).tobytes() == np.array(b).tobytes()
        assert np.array(a).dtype == np.array(b).dtype
    elif type(a) is pd.DataFrame:
        pd.testing.assert_frame_equal(
            a,
            b,
            check_dtype=True,
            check_exact=True,
            check_index_type=True,
            check_column_type=True,
            check_names=True,
            check_categorical=True,
            check_freq=True,
            check_flags=True,
        )
        _same_index(a.index, b.index)
        _same_index(a.columns, b.columns)
        for j in range(a.shape[1]):
            _same_values(a.iloc[:, j], b.iloc[:, j])
    elif type(a) is pd.Series:
        pd.testing.assert_series_equal(
            a,
            b,
            check_dtype=True,
            check_exact=True,
            check_index_type=True,
            check_series_type=True,
            check_names=True,
            check_categorical=True,
            check_freq=True,
            check_flags=True,
        )
        _same_index(a.index, b.index)
        assert_same(a.name, b.name)
        _same_values(a, b)
    elif isinstance(a, pd.Index):
        _same_index(a, b)
    elif type(a) is pd.Timestamp:
        assert (a.value, a.unit, a.tz) == (b.value, b.unit, b.tz)
        assert a == b
    elif type(a) is pd.Timedelta:
        assert (a.value, a.unit) == (b.value, b.unit)
    elif type(a) is pd.Interval:
        assert a.closed == b.closed
        assert_same(a.left, b.left)
        assert_same(a.right, b.right)
    elif isinstance(a, pd.api.extensions.ExtensionArray):
        pd.testing.assert_extension_array_equal(a, b, check_exact=True)
        _same_values(pd.Series(a, copy=False), pd.Series(b, copy=False))
    elif a is pd.NA or a is pd.NaT:
        assert a is b
    else:
        assert a == b


# ---- round trips: scalars

NAN_PAYLOAD = struct.unpack(">d", bytes.fromhex("7ff8000000000123"))[0]
NEG_NAN = struct.unpack(">d", bytes.fromhex("fff8000000000000"))[0]
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**63,
    -(2**63) - 1,
    10**400,
    0.0,
    -0.0,
    1.5,
    0.1,
    1e308,
    5e-324,
    math.nan,
    NAN_PAYLOAD,
    NEG_NAN,
    math.inf,
    -math.inf,
    1 + 2j,
    complex(-0.0, math.nan),
    complex(math.inf, -math.inf),
    "",
    "drama",
    "héllo “quoted” — 🎬",
    "lone \ud800 surrogate",
    "nul\x00inside",
    "x" * 10_000,
    b"",
    b"\x00\xff bytes",
    pd.NA,
    pd.NaT,
    pd.Timestamp("2019-05-24"),
    pd.Timestamp("2019-05-24 12:34:56.123456789"),
    pd.Timestamp("2019-05-24 12:00", tz="Europe/Paris"),
    pd.Timestamp("2019-05-24 12:00", tz="UTC"),
    pd.Timestamp("2019-05-24 12:00", tz=datetime.timezone(datetime.timedelta(hours=-5))),
    pd.Timestamp("2019-05-24", tz=datetime.timezone(datetime.timedelta(minutes=90), "Studio")),
    pd.Timestamp(np.datetime64(5, "s")),
    pd.Timestamp(np.datetime64(5, "ms")),
    pd.Timedelta("1 days 2 hours"),
    pd.Timedelta(np.timedelta64(7, "s")),
    pd.Timedelta(1, unit="ns"),
    pd.Period("2019-05", freq="M"),
    pd.Period("2019Q2", freq="Q"),
    pd.Period("2019-05-24", freq="D"),
    pd.Interval(0, 5),
    pd.Interval(0.5, 1.5, closed="both"),
    pd.Interval(pd.Timestamp("2019"), pd.Timestamp("2020"), closed="left"),
]

NUMPY_SCALARS = [
    *(np.dtype(c).type(1) for c in "?bhilqBHILQefdgFDG"),
    np.float64(math.nan),
    np.float32(-0.0),
    np.float16(math.inf),
    np.longdouble(1) / 3,
    np.complex64(complex(1, math.nan)),
    np.str_("a"),
    np.str_("trailing nul\x00"),
    np.bytes_(b"b\x00"),
    np.datetime64("2019-05-24"),
    np.datetime64("2019-05-24T12:00:00.123", "ns"),
    np.datetime64("NaT"),
    np.datetime64("NaT", "s"),
    np.timedelta64(5, "ms"),
    np.timedelta64("NaT"),
    np.void(b"\x01\x02"),
    np.array([(1, 2.5)], dtype=[("a", "<i4"), ("b", ">f8")])[0],
]


@pytest.mark.parametrize("value", SCALARS + NUMPY_SCALARS, ids=repr)
def test_scalars_round_trip_exactly(value: object) -> None:
    roundtrip(value)


def test_bare_json_for_common_scalars() -> None:
    assert encode(3, name="n") == {"plain": 1, "value": 3}
    assert encode("a", name="n")["value"] == "a"
    assert encode(1.25, name="n")["value"] == 1.25
    assert encode(None, name="n")["value"] is None
    assert encode(math.nan, name="n")["value"] == {"t": "float", "bits": "7ff8000000000000"}
    assert type(encode(np.int64(3), name="n")["value"]) is dict  # numpy types stay numpy


def test_numpy_scalar_types_are_kept() -> None:
    assert type(roundtrip(np.longlong(5))) is np.longlong  # same dtype as int64, other type
    assert type(roundtrip(np.int64(5))) is np.int64
    assert type(roundtrip(np.bool_(False))) is np.bool_


# ---- round trips: containers

CONTAINERS = [
    [],
    (),
    {},
    set(),
    frozenset(),
    [1, "a", None, [2, [3, (4.5, {"k": math.nan})]]],
    (1,),
    {"drama": 3, "horror": 5},
    {1: "one", 2.5: "float", None: "none", False: "bool", (1, ("a", b"x")): "tuple"},
    {frozenset({1, 2}): {"nested": [{}]}, np.int64(3): "numpy key", pd.Timestamp("2019"): 1},
    {math.nan: 1, -0.0: 2},
    {1, 2.5, "a", (1, 2), frozenset({None})},
    frozenset({math.nan, 1}),
    [np.float64(1.5), np.array([1, 2]), pd.Series([1.0]), pd.DataFrame({"a": [1]})],
    {"genres": pd.Series({"horror": 2, "drama": 1}), "frame": pd.DataFrame({"x": [1.5]})},
]


@pytest.mark.parametrize(
    "value", CONTAINERS, ids=[f"{i}-{type(v).__name__}" for i, v in enumerate(CONTAINERS)]
)
def test_containers_round_trip_exactly(value: object) -> None:
    roundtrip(value)


def test_dict_order_is_kept() -> None:
    value = {"b": 1, "a": 2, 3: 0}
    assert list(roundtrip(value)) == ["b", "a", 3]


# ---- round trips: numpy arrays


def _arrays() -> Iterator[np.ndarray[Any, Any]]:
    for c in "?bhilqBHILQefdgFDG":
        yield np.arange(6).astype(c).reshape(2, 3)
    yield np.array([1.5, -0.0, math.nan, NAN_PAYLOAD, math.inf])
    yield np.arange(24, dtype=">i4").reshape(2, 3, 4)
    yield np.arange(6.0).reshape(2, 3).T  # Fortran order
    yield np.arange(10.0)[::3]  # not contiguous
    yield np.array(5)
    yield np.array(math.nan)
    yield np.zeros((0,))
    yield np.zeros((2, 0, 3), dtype=np.int8)
    yield np.zeros((1,) * 10)
    yield np.zeros((1,) * 64)  # numpy's most dimensions
    yield np.array([True, False])
    yield np.array(["drama", "", "🎬"])
    yield np.array(["a", "b"], dtype=">U3")
    yield np.array([b"ab", b"\x00"])
    yield np.array(["2019-05-24", "NaT"], dtype="M8[ns]")
    yield np.array(["2019-05-24"], dtype="M8[D]")
    yield np.array([1, 2], dtype="M8[25s]")
    yield np.array([1, "NaT"], dtype="m8[us]")
    yield np.array([b"\x01\x02\x03"], dtype="V3")
    yield np.array([(1, 2.5, "x")], dtype=[("a", "<i4"), ("b", ">f8"), ("c", "<U2")])
    yield np.zeros(
        2, dtype=np.dtype({"names": ["a"], "formats": ["<i2"], "offsets": [4], "itemsize": 8})
    )
    yield np.zeros(2, dtype=np.dtype([("a", "<i1"), ("b", "<f8")], align=True))
    yield np.zeros(
        2, dtype=np.dtype({"names": ["a", "b"], "formats": ["<i4", "<f4"], "titles": ["A", None]})
    )
    yield np.zeros(3, dtype=[("m", "<f8", (2, 2)), ("n", [("x", "<i2")])])
    yield np.array([1, "a", None, [1, [2]], (3,), math.nan, np.float32(2)], dtype=object)
    yield np.array([[1, None], ["x", pd.NA]], dtype=object)
    yield np.array([np.array([1, 2]), np.array(["a"])], dtype=object)
    yield np.empty((0, 2), dtype=object)
    yield np.array(["a", "bé"], dtype=np.dtypes.StringDType())
    yield np.array(["a", math.nan], dtype=np.dtypes.StringDType(na_object=math.nan))
    yield np.array(["a", None], dtype=np.dtypes.StringDType(na_object=None, coerce=False))
    yield np.array([["a", pd.NA]], dtype=np.dtypes.StringDType(na_object=pd.NA))


@pytest.mark.parametrize("value", list(_arrays()), ids=lambda a: f"{a.dtype}-{a.shape}")
def test_arrays_round_trip_exactly(value: np.ndarray[Any, Any]) -> None:
    out = roundtrip(value)
    assert out.flags.writeable


def test_big_endian_and_longlong_dtypes_are_kept() -> None:
    assert roundtrip(np.arange(3, dtype=">f8")).dtype.str == ">f8"
    assert roundtrip(np.arange(3, dtype=np.longlong)).dtype.char == "q"


# ---- round trips: pandas


def _screenings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "film": ["The Perfection", "Get Out", "Us", "The Perfection", "Hereditary"],
            "genre": ["horror", "horror", "thriller", "thriller", "horror"],
            "year": [2019, 2017, 2019, 2019, 2018],
            "score": [7.5, 8.9, math.nan, 6.0, 8.1],
            "runtime": [90, 104, 116, 90, 127],
        }
    )


def _frames() -> Iterator[tuple[str, Any]]:
    df = _screenings()
    yield "frame", df
    yield "groupby size", df.groupby("genre").size()
    yield "groupby two keys size", df.groupby(["genre", "year"]).size()
    yield "groupby mean", df.groupby("genre")[["score", "runtime"]].mean()
    yield "groupby agg", df.groupby("genre").agg(n=("film", "count"), best=("score", "max"))
    yield "value_counts", df["genre"].value_counts()
    yield "value_counts normalize", df["genre"].value_counts(normalize=True)
    yield "pivot_table", df.pivot_table(index="genre", columns="year", values="score")
    yield (
        "pivot_table aggfunc",
        df.pivot_table(
            index="film", columns="genre", values="runtime", aggfunc="sum", fill_value=0
        ),
    )
    yield "unstack", df.groupby(["genre", "year"])["score"].mean().unstack()
    yield (
        "unstack multi columns",
        df.groupby(["genre", "year"])[["score", "runtime"]].sum().unstack(),
    )
    yield "crosstab", pd.crosstab(df["genre"], df["year"])
    yield "describe", df.describe()
    filled = pd.DataFrame(index=["horror", "thriller"], columns=["n", "label"])
    filled.loc["horror", "n"] = 3
    filled.loc["horror", "label"] = "scary"
    filled.loc["thriller", "n"] = 1.5
    yield "DataFrame(index, columns) filled with .loc", filled
    yield (
        "concordance",
        pd.DataFrame(
            {
                "left": ["the ballet", "a cello", "her"],
                "keyword": ["perfection", "perfection", "perfection"],
                "right": ["of it", "", None],
                "source": pd.Series(["review", "essay", "review"], dtype="category"),
                "position": np.array([10, 200, 3000], dtype=np.int32),
            }
        ),
    )
    yield "empty frame", pd.DataFrame()
    yield "columns no rows", pd.DataFrame(columns=["a", "b"])
    yield "rows no columns", pd.DataFrame(index=["x", "y"])
    yield "empty series", pd.Series([], dtype=float)
    yield "empty object series", pd.Series([], dtype=object)
    yield "frame of NaN", pd.DataFrame(np.full((3, 2), math.nan), columns=[0, 1])
    yield "integer column labels", pd.DataFrame(np.arange(6).reshape(2, 3), columns=[10, 20, 30])
    yield "duplicate labels", pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"], index=[0, 0])
    named = df.set_index("film")
    named.columns.name = "field"
    yield "named columns and index", named
    yield "range index with step", pd.Series([1, 2, 3], index=pd.RangeIndex(10, 40, 10, name="r"))
    yield "float index", pd.Series([1, 2], index=[0.5, math.nan])
    yield "bool index", pd.Series([1, 2], index=pd.Index([True, False]))
    yield (
        "object index of mixed",
        pd.Series([1, 2, 3], index=pd.Index([1, "a", (2, 3)], dtype=object)),
    )
    yield "int8 index", pd.Series([1], index=pd.Index(np.array([4], dtype=np.int8)))
    yield "nullable Int64 index", pd.Series([1, 2], index=pd.Index([1, None], dtype="Int64"))
    yield "str with NA", pd.Series(["a", None], dtype=pd.StringDtype(na_value=pd.NA))
    yield "str default", pd.Series(["a", None, "c"])
    yield "object strings", pd.Series(["a", None], dtype=object)
    yield (
        "nullable",
        pd.DataFrame(
            {
                "i": pd.array([1, None, 3], dtype="Int64"),
                "u": pd.array([1, None, 3], dtype="UInt8"),
                "f": pd.array([1.5, None, math.nan], dtype="Float64"),
                "b": pd.array([True, None, False], dtype="boolean"),
            }
        ),
    )
    yield (
        "category ordered",
        pd.Series(pd.Categorical(["lo", "hi", None, "lo"], categories=["lo", "hi"], ordered=True)),
    )
    yield "category of ints", pd.Series([3, 1, 3], dtype="category")
    yield "categorical index", pd.Series([1, 2], index=pd.CategoricalIndex(["a", "b"], name="c"))
    yield "datetime naive", pd.Series(pd.to_datetime(["2019-05-24", None]))
    yield "datetime seconds", pd.Series(np.array(["2019-05-24"], dtype="M8[s]"))
    yield (
        "datetime tz",
        pd.DataFrame(
            {"paris": pd.date_range("2019-05-24", periods=3, tz="Europe/Paris", unit="ns")}
        ),
    )
    yield "datetime utc", pd.Series(pd.date_range("2019-05-24", periods=2, tz="UTC"))
    yield (
        "datetime fixed offset",
        pd.Series(
            pd.date_range("2019", periods=2, tz=datetime.timezone(datetime.timedelta(hours=3)))
        ),
    )
    yield (
        "datetime index freq",
        pd.Series([1, 2, 3], index=pd.date_range("2019", periods=3, freq="D")),
    )
    yield (
        "datetime index tz freq",
        pd.Series(
            [1, 2], index=pd.date_range("2019", periods=2, freq="h", tz="Europe/Paris", name="when")
        ),
    )
    yield (
        "resample",
        pd.Series([1, 2, 3, 4], index=pd.date_range("2019-01-01", periods=4, freq="15D"))
        .resample("ME")
        .sum(),
    )
    yield (
        "datetime index no freq",
        pd.Series([1, 2], index=pd.to_datetime(["2019-01-03", "2019-01-01"])),
    )
    yield "timedelta", pd.Series(pd.to_timedelta(["1D", None, "2h"]))
    yield "timedelta index freq", pd.Series([1, 2], index=pd.timedelta_range("1D", periods=2))
    yield "period", pd.Series(pd.period_range("2019-01", periods=3, freq="M"))
    yield "period index", pd.Series([1, 2], index=pd.period_range("2019Q1", periods=2, freq="Q"))
    yield "cut", pd.Series(pd.cut([90, 104, 116, 127], 3))
    yield "cut value_counts", pd.cut(df["runtime"], bins=[0, 100, 200]).value_counts()
    yield "interval index", pd.Series([1, 2], index=pd.interval_range(0, 2, closed="left"))
    yield (
        "interval datetimes",
        pd.Series(pd.interval_range(pd.Timestamp("2019"), periods=2, freq="D")),
    )
    yield (
        "multiindex with NaN",
        pd.Series(
            [1, 2, 3],
            index=pd.MultiIndex.from_tuples([("a", 1), ("a", None), (None, 2)], names=["x", None]),
        ),
    )
    yield (
        "multiindex from_product",
        pd.DataFrame(
            np.arange(8).reshape(4, 2),
            index=pd.MultiIndex.from_product([[2019, 2020], ["horror", "drama"]], names=["y", "g"]),
        ),
    )
    yield "tuple names", pd.Series([1], name=("score", "mean"))
    yield (
        "no duplicate labels flag",
        pd.DataFrame({"a": [1]}).set_flags(allows_duplicate_labels=False),
    )
    yield "series no duplicates flag", pd.Series([1]).set_flags(allows_duplicate_labels=False)
    yield (
        "float16 and int16",
        pd.DataFrame({"h": np.array([1.5], dtype=np.float16), "i": np.array([2], dtype=np.int16)}),
    )
    yield "complex", pd.Series([1 + 2j, math.nan])
    yield (
        "object column of mixed",
        pd.Series([1, "a", None, math.nan, pd.NA, [1, 2], {"k": (1,)}], dtype=object),
    )
    yield "object column of Timestamps", pd.Series([pd.Timestamp("2019"), pd.NaT], dtype=object)
    yield "series of lists", df.groupby("genre")["film"].agg(list)
    yield "bare index", pd.Index(["a", "b"], name="genre")
    yield "bare range index", pd.RangeIndex(5)
    yield "bare multiindex", df.set_index(["genre", "year"]).index
    yield "bare datetime index", pd.date_range("2019", periods=3, freq="W")
    yield "categorical", pd.cut([1, 5, 9], 3)
    yield (
        "pandas arrays",
        [
            pd.array([1, None], dtype="Int64"),
            pd.array(["a", None], dtype="string"),
            pd.array(np.array(["2019"], dtype="M8[s]")),
            pd.array(np.array([1], dtype="m8[ns]")),
            pd.arrays.NumpyExtensionArray(np.array([1, 2])),
            pd.arrays.NumpyExtensionArray(np.array(["a", None], dtype=object)),
            pd.Series([1.5]).array,
        ],
    )


@pytest.mark.parametrize(("label", "value"), list(_frames()), ids=[label for label, _ in _frames()])
def test_pandas_round_trips_exactly(label: str, value: Any) -> None:
    roundtrip(value)


def test_pandas_3_default_str_dtype_is_kept() -> None:
    s = pd.Series(["a", None])
    out = roundtrip(s)
    assert out.dtype == s.dtype
    assert out.dtype.na_value is s.dtype.na_value or math.isnan(out.dtype.na_value)
    assert roundtrip(pd.Series(["a"], dtype=object)).dtype == object  # not inferred as str


def test_decoded_frames_are_ordinary_writable_frames() -> None:
    out = roundtrip(_screenings())
    out.loc[0, "score"] = 1.0
    out["extra"] = 1
    assert out.loc[0, "score"] == 1.0


def test_a_numeric_frame_is_fast() -> None:
    df = pd.DataFrame(np.random.default_rng(0).random((1000, 10)))
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        out = decode(encode(df, name="df"))
        best = min(best, time.perf_counter() - start)
    assert_same(df, out)
    assert best < 0.010


# ---- round trips: properties


def _json_floats() -> st.SearchStrategy[float]:
    return st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


PLAIN_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | _json_floats()
    | st.complex_numbers(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary(max_size=20)
    | st.sampled_from([pd.NA, pd.NaT, np.int8(3), np.float32(-0.0), np.str_("s")])
)
HASHABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=5,
)
PLAIN = st.recursive(
    PLAIN_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(HASHABLE, inner, max_size=5)
        | st.frozensets(HASHABLE, max_size=4)
        | st.sets(HASHABLE, max_size=4)
    ),
    max_leaves=25,
)


@FAST
@given(PLAIN)
def test_property_nested_python_values_round_trip(value: object) -> None:
    roundtrip(value)


ARRAY_DTYPES = (
    hnp.integer_dtypes(endianness="=")
    | hnp.unsigned_integer_dtypes(endianness=">")
    | hnp.floating_dtypes(endianness="?")
    | hnp.complex_number_dtypes()
    | hnp.boolean_dtypes()
    | hnp.unicode_string_dtypes(max_len=4)
    | hnp.byte_string_dtypes(max_len=4)
    | hnp.datetime64_dtypes()
    | hnp.timedelta64_dtypes()
)


@FAST
@given(hnp.arrays(ARRAY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
def test_property_arrays_round_trip(value: np.ndarray[Any, Any]) -> None:
    roundtrip(value)


FRAME_COLUMNS = [
    hpd.column("i", dtype=np.int64),
    hpd.column("f", dtype=np.float64),
    hpd.column("b", dtype=bool),
    hpd.column("s", elements=st.text(max_size=5), dtype=object),
    hpd.column("t", dtype="datetime64[ns]"),
    hpd.column(7, dtype=np.float32),
]


@FAST
@given(
    hpd.data_frames(
        FRAME_COLUMNS,
        index=hpd.range_indexes(max_size=8) | hpd.indexes(dtype=np.int64, max_size=8),
    )
)
def test_property_frames_round_trip(value: pd.DataFrame) -> None:
    roundtrip(value)
    as_str = value.astype({"s": "str"})
    roundtrip(as_str)
    roundtrip(as_str.set_index(["s", "b"]))


@FAST
@given(
    hpd.series(
        elements=st.floats(allow_nan=True, allow_infinity=True),
        dtype=np.float64,
        index=hpd.indexes(elements=st.text(max_size=3), max_size=6),
        name=st.none() | st.text(max_size=3) | st.integers(),
    )
)
def test_property_series_round_trip(value: pd.Series[Any]) -> None:
    roundtrip(value)
    roundtrip(value.astype("category"))
    roundtrip(value.astype("Float64"))


# ---- refusals


class MyInt(int):
    pass


class MyFloat(float):
    pass


class MyStr(str):
    __slots__ = ()


class MyList(list[Any]):
    pass


class MyTuple(tuple[Any, ...]):
    __slots__ = ()


class MyDict(dict[Any, Any]):
    pass


class MyFrame(pd.DataFrame):
    @property
    def _constructor(self) -> type[MyFrame]:
        return MyFrame


class MySeries(pd.Series):  # type: ignore[type-arg]
    pass


class MyArray(np.ndarray[Any, Any]):
    pass


class MyIndex(pd.Index):  # type: ignore[type-arg]
    pass


class EqualsAll:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


TOUCHED: list[str] = []


class Tripwire(type):
    """A metaclass that records every hook run on its classes: encode must decide on type()
    alone, and so touch none of them."""

    def __hash__(cls) -> int:
        TOUCHED.append("hash of the class")
        return type.__hash__(cls)

    def __eq__(cls, other: object) -> bool:
        TOUCHED.append("== on the class")
        return type.__eq__(cls, other)  # type: ignore[no-any-return]

    def __instancecheck__(cls, other: object) -> bool:
        TOUCHED.append("isinstance")
        return type.__instancecheck__(cls, other)

    def __subclasscheck__(cls, other: type) -> bool:
        TOUCHED.append("issubclass")
        return type.__subclasscheck__(cls, other)

    @property
    def __name__(cls) -> str:  # type: ignore[override]
        TOUCHED.append("the class's name")
        return "Booby"


class Booby(metaclass=Tripwire):
    def __getattribute__(self, name: str) -> Any:
        TOUCHED.append(f"attribute {name}")
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        TOUCHED.append("==")
        return True

    def __hash__(self) -> int:
        TOUCHED.append("hash")
        return 0

    def __len__(self) -> int:
        TOUCHED.append("len")
        return 0

    def __iter__(self) -> Iterator[Any]:
        TOUCHED.append("iter")
        return iter([])

    def __repr__(self) -> str:
        TOUCHED.append("repr")
        return "Booby()"


class LiesAboutClass:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return int


def _gen() -> Iterator[int]:
    yield 1


SUBCLASS_CASES = [
    (MyInt(3), "a MyInt object (a subclass of int"),
    (MyFloat(1.5), "a subclass of float"),
    (MyStr("a"), "a subclass of str"),
    (MyList([1]), "a subclass of list"),
    (MyTuple((1,)), "a subclass of tuple"),
    (MyDict(a=1), "a subclass of dict"),
    (collections.Counter("aab"), "a Counter object (a subclass of dict"),
    (collections.OrderedDict(a=1), "a subclass of dict"),
    (collections.defaultdict(int), "a subclass of dict"),
    (MyFrame({"a": [1]}), "a subclass of pandas.DataFrame"),
    (MySeries([1]), "a subclass of pandas.Series"),
    (np.arange(3).view(MyArray), "a subclass of numpy.ndarray"),
    (np.ma.masked_array([1, 2], mask=[0, 1]), "a subclass of numpy.ndarray"),
    (np.rec.array([(1,)], dtype=[("a", "<i4")]), "a subclass of numpy.ndarray"),
    (MyIndex._simple_new(pd.Index([1, 2])._data), "a subclass of pandas.Index"),
]


@pytest.mark.parametrize(("value", "what"), SUBCLASS_CASES, ids=lambda v: type(v).__name__)
def test_subclasses_of_plain_types_are_refused(value: object, what: str) -> None:
    with pytest.raises(NotPlainData, match=r"^genre_counts is ") as info:
        encode(value, name="genre_counts")
    assert what in str(info.value)
    assert "an answer must be plain data: a DataFrame, Series, ndarray" in str(info.value)


OTHER_CASES = [
    (EqualsAll(), "an EqualsAll object"),
    (len, "a function"),
    (lambda: 1, "a function"),
    (_gen, "a function"),
    (_gen(), "a generator"),
    (sys, "a module"),
    (int, "a class"),
    (EqualsAll, "a class"),
    (Booby, "a class"),
    (Booby(), "a Booby object"),
    (LiesAboutClass(), "a LiesAboutClass object"),
    (range(3), "a range"),
    (iter([1]), "a list_iterator object"),
    (datetime.date(2019, 5, 24), "a date object"),
    (datetime.datetime(2019, 5, 24), "a datetime object"),
    (decimal.Decimal(1), "a Decimal object"),
    (object(), "an object object"),
    (np.dtype("f8"), "object"),
    (Ellipsis, "an ellipsis object"),
]


@pytest.mark.parametrize(
    ("value", "what"), OTHER_CASES, ids=[f"{n}-{what}" for n, (_, what) in enumerate(OTHER_CASES)]
)
def test_non_plain_values_are_refused(value: object, what: str) -> None:
    with pytest.raises(NotPlainData, match=r"^genre_counts is ") as info:
        encode(value, name="genre_counts")
    assert what in str(info.value)


def _object_frame(bad: object) -> pd.DataFrame:
    df = pd.DataFrame({"a": [1, 2], "b": pd.Series(["x", "y"], dtype=object)})
    df.loc[1, "b"] = bad
    return df


NESTED_CASES: list[tuple[Callable[[Any], object], str]] = [
    (lambda bad: [1, [2, bad]], "genre_counts[1][1] is "),
    (lambda bad: (bad,), "genre_counts[0] is "),
    (lambda bad: {"drama": [bad]}, "genre_counts['drama'][0] is "),
    (lambda bad: {(1, bad): 2}, "a key of genre_counts contains "),
    (lambda bad: {"x": {bad: 2}}, "a key of genre_counts['x'] is "),
    (lambda bad: [{bad}], "an element of genre_counts[0] is "),
    (lambda bad: np.array([1, bad], dtype=object), "genre_counts[1] is "),
    (lambda bad: np.array([[1, 2], [3, bad]], dtype=object), "genre_counts[1, 1] is "),
    (lambda bad: pd.Series([1, bad], dtype=object), "genre_counts.iloc[1] is "),
    (_object_frame, "genre_counts.iloc[1, 1] is "),
    (lambda bad: pd.Series([1], index=pd.Index([bad], dtype=object)), "genre_counts.index[0] is "),
    (
        lambda bad: pd.DataFrame([[1]], columns=pd.Index([bad], dtype=object)),
        "genre_counts.columns[0] is ",
    ),
    (lambda bad: pd.Series([1], name=bad), "genre_counts.name is "),
    (
        lambda bad: pd.Series(
            pd.Categorical.from_codes([0], categories=pd.Index([bad], dtype=object))
        ),
        "genre_counts.cat.categories[0] is ",
    ),
    (lambda bad: [pd.Series([[bad]], dtype=object)], "genre_counts[0].iloc[0][0] is "),
    (
        lambda bad: pd.Series(
            [1], index=pd.MultiIndex.from_arrays([pd.Index([bad], dtype=object), [1]])
        ),
        "genre_counts.index.levels[0][0] is ",
    ),
]


@pytest.mark.parametrize(("build", "where"), NESTED_CASES, ids=[w for _, w in NESTED_CASES])
@pytest.mark.parametrize(
    "bad", [EqualsAll(), MyInt(1), MyStr("x"), len], ids=lambda b: type(b).__name__
)
def test_non_plain_values_inside_are_refused_with_their_place(
    build: Callable[[Any], object], where: str, bad: object
) -> None:
    with pytest.raises(NotPlainData) as info:
        encode(build(bad), name="genre_counts")
    assert str(info.value).startswith(where), str(info.value)
    assert "; an answer must be plain data" in str(info.value)


def test_hostile_objects_are_never_touched() -> None:
    values = [
        Booby(),
        Booby,
        [Booby()],
        {"k": Booby()},
        {Booby(): 1},
        {Booby},
        np.array([Booby()], dtype=object),
        pd.Series([Booby()], dtype=object),
        pd.DataFrame([[1]], columns=pd.Index([Booby()], dtype=object)),
    ]
    for value in values:
        TOUCHED.clear()
        with pytest.raises(NotPlainData, match=r"a Booby object|a class"):
            encode(value, name="answer")
        assert TOUCHED == []


def test_str_subclass_in_a_string_column_is_refused() -> None:
    s = pd.Series(["a", "b"], dtype="string")
    s.array._ndarray[1] = MyStr("b")  # what a student could do to a genuine StringArray
    with pytest.raises(NotPlainData, match=r"^answer.iloc\[1\] is a MyStr object"):
        encode(s, name="answer")


def test_index_subclass_of_a_frame_is_refused() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    df.index = MyIndex._simple_new(pd.Index([1, 2])._data)  # pandas' constructor drops it
    with pytest.raises(NotPlainData, match=r"^answer\.index is a MyIndex object"):
        encode(df, name="answer")


def test_unsupported_time_zones_and_dtypes_are_refused() -> None:
    import dateutil.tz

    stamp = pd.Timestamp("2019", tz=dateutil.tz.gettz("Europe/Paris"))
    with pytest.raises(NotPlainData, match="time zone of type tzfile; time zones must be zoneinfo"):
        encode(stamp, name="answer")
    sparse = pd.Series([0, 1], dtype="Sparse[int64]")
    with pytest.raises(NotPlainData, match=r"^answer is a column of an unsupported pandas dtype"):
        encode(sparse, name="answer")
    with pytest.raises(NotPlainData, match="object fields"):
        encode(np.zeros(1, dtype=[("a", "O")]), name="answer")
    with pytest.raises(NotPlainData, match=r"na_object must be None, nan or pandas\.NA"):
        encode(np.array(["a"], dtype=np.dtypes.StringDType(na_object="?")), name="answer")


class MyIntegerArray(pd.arrays.IntegerArray):
    pass


class MyOffset(pd.DateOffset):
    pass


def test_student_pandas_extensions_inside_genuine_objects_are_refused() -> None:
    values = MyIntegerArray(np.array([1, 2]), np.array([False, True]))
    with pytest.raises(NotPlainData, match=r"^answer is a column .*held in MyIntegerArray"):
        encode(pd.Series(values), name="answer")
    with pytest.raises(NotPlainData, match=r"^answer\[0\] is a frequency of type MyOffset"):
        encode([pd.date_range("2019", periods=2, freq=MyOffset(days=1))], name="answer")


def test_size_limit() -> None:
    for fits in (np.zeros(1000), "é" * 1000, list(range(500)), _screenings(), b"x" * 5000):
        # whatever encode lets through under a limit, decode accepts under the same limit
        decode(wire(fits, max_bytes=20_000), max_bytes=20_000)
    for big in (
        np.zeros(100_000),
        "x" * 100_000,
        ["x"] * 20_000,
        pd.DataFrame({"a": range(20_000)}),
    ):
        with pytest.raises(NotPlainData, match=r"^answer is too large to send: .* 64,000 bytes"):
            encode(big, name="answer", max_bytes=64_000)
    with pytest.raises(NotPlainData, match="exceed 64 MiB"):
        encode(np.broadcast_to(np.zeros(1), (10**5, 10**4)), name="answer")  # never copied
    with pytest.raises(NotPlainData, match="too large"):
        encode(pd.RangeIndex(10**9), name="answer", max_bytes=1000)


def test_item_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plaindata, "MAX_ITEMS", 1000)
    encode(list(range(900)), name="answer")
    with pytest.raises(NotPlainData, match="more than 1,000 values"):
        encode(list(range(1001)), name="answer")
    with pytest.raises(NotPlainData, match="more than 1,000 values"):
        encode(pd.Series(["a"] * 1001), name="answer")


def _nest(depth: int, wrap: Callable[[Any], Any]) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = wrap(value)
    return value


WRAPS: list[Callable[[Any], Any]] = [
    lambda v: [v],
    lambda v: {"k": v},
    lambda v: (v, 1),
    lambda v: pd.Series([v, 1], dtype=object),
    lambda v: np.array([v, None], dtype=object),
    lambda v: pd.DataFrame({"c": pd.Series([v], dtype=object)}),
    lambda v: pd.Series([1], index=pd.Index([(v,)], dtype=object, tupleize_cols=False)),
]


@pytest.mark.parametrize("wrap", WRAPS)
def test_depth_limit_is_the_same_on_both_sides(wrap: Callable[[Any], Any]) -> None:
    deepest = None
    for depth in range(1, MAX_DEPTH + 2):
        try:
            tree = wire(_nest(depth, wrap))
        except NotPlainData as e:
            assert "is nested more than 100 levels deep" in str(e)
            break
        deepest = tree
    else:
        raise AssertionError("no depth limit")
    assert deepest is not None
    decode(deepest)  # the deepest value encode accepts, decode accepts too


def test_self_containing_values_are_refused() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(
        NotPlainData, match=r"nested more than 100 levels deep \(or contains itself\)"
    ):
        encode(loop, name="answer")
    d: dict[str, Any] = {}
    d["self"] = d
    with pytest.raises(NotPlainData, match="contains itself"):
        encode(d, name="answer")


def test_lowered_recursion_limit_is_a_refusal() -> None:
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(60)
        with pytest.raises(NotPlainData, match="nested too deeply"):
            encode(_nest(50, lambda v: [v]), name="answer")
    finally:
        sys.setrecursionlimit(old)


# ---- decode of hostile input


def _env(value: Any) -> dict[str, Any]:
    return {"plain": 1, "value": value}


def _raw(dtype: Any, shape: list[Any], data: bytes, order: str = "C") -> dict[str, Any]:
    import base64

    return {
        "t": "ndarray",
        "dtype": dtype,
        "shape": shape,
        "order": order,
        "b64": base64.b64encode(data).decode(),
    }


def _series_of(values: Any, index: Any = None, name: Any = None) -> dict[str, Any]:
    if index is None:
        index = {"t": "range", "start": 0, "stop": 2, "step": 1, "name": None}
    return {"t": "series", "name": name, "index": index, "values": values, "dup": True}


F8 = _raw("<d", [2], b"\x00" * 16)
I8_CODES = _raw("|b", [2], b"\x00\x05")
RANGE2 = {"t": "range", "start": 0, "stop": 2, "step": 1, "name": None}

MALFORMED: list[tuple[str, Any]] = [
    ("not a dict", [1]),
    ("no envelope", {"t": "list", "items": []}),
    ("wrong version", {"plain": 2, "value": 1}),
    ("bool version", {"plain": True, "value": 1}),
    ("extra envelope field", {"plain": 1, "value": 1, "x": 0}),
    ("bare list", _env([1, 2])),
    ("bare nan", _env(math.nan)),
    ("bare inf", _env(math.inf)),
    ("bare big int", _env(2**70)),
    ("unknown tag", _env({"t": "pickle", "data": "gASV"})),
    ("tag not str", _env({"t": 1})),
    ("no tag", _env({"items": []})),
    ("missing field", _env({"t": "list"})),
    ("extra field", _env({"t": "list", "items": [], "x": 1})),
    ("items not list", _env({"t": "list", "items": "abc"})),
    ("finite float tagged", _env({"t": "float", "bits": "3ff0000000000000"})),
    ("float bits short", _env({"t": "float", "bits": "7ff8"})),
    ("small int tagged", _env({"t": "int", "hex": "5"})),
    ("int hex leading zero", _env({"t": "int", "hex": "0ffffffffffffffffffff"})),
    ("int hex junk", _env({"t": "int", "hex": "0x1"})),
    ("complex of str", _env({"t": "complex", "re": "1", "im": 0.0})),
    ("complex of int", _env({"t": "complex", "re": 1, "im": 0.0})),
    ("bytes bad b64", _env({"t": "bytes", "b64": "!!!"})),
    ("dict keys values differ", _env({"t": "dict", "keys": [1, 2], "values": [1]})),
    ("dict duplicate keys", _env({"t": "dict", "keys": [1, 1], "values": [1, 2]})),
    (
        "dict unhashable key",
        _env({"t": "dict", "keys": [{"t": "list", "items": []}], "values": [1]}),
    ),
    ("set duplicates", _env({"t": "set", "items": [1, 1]})),
    ("set unhashable", _env({"t": "set", "items": [{"t": "dict", "keys": [], "values": []}]})),
    ("deep lists", _env(_nest(300, lambda v: {"t": "list", "items": [v]}))),
    (
        "deep dtype",
        _env({"t": "np", "dtype": _nest(200, lambda v: {"base": v, "shape": [1]}), "b64": ""}),
    ),
    ("object dtype raw", _env(_raw("|O", [1], b"\x00" * 8))),
    ("object dtype O8", _env(_raw("|O8", [1], b"\x00" * 8))),
    (
        "object in structured",
        _env(
            _raw(
                {
                    "names": ["a"],
                    "formats": ["|O"],
                    "offsets": [0],
                    "titles": [None],
                    "itemsize": 8,
                    "aligned": False,
                },
                [1],
                b"\x00" * 8,
            )
        ),
    ),
    ("dtype not canonical", _env(_raw("<i8", [1], b"\x00" * 8))),
    ("dtype native order", _env(_raw("=d", [1], b"\x00" * 8))),
    ("dtype python syntax", _env(_raw("float64", [1], b"\x00" * 8))),
    ("dtype comma struct", _env(_raw("i4,i4", [1], b"\x00" * 8))),
    ("dtype datetime bad unit", _env(_raw("<M8[parsec]", [1], b"\x00" * 8))),
    ("dtype as list", _env(_raw(["<d"], [1], b"\x00" * 8))),
    ("shape mismatch", _env(_raw("<d", [3], b"\x00" * 16))),
    ("huge shape little data", _env(_raw("<d", [10**12, 10**12], b"\x00" * 16))),
    ("huge zero itemsize", _env(_raw("|V0", [10**15], b""))),
    ("negative shape", _env(_raw("<d", [-2], b""))),
    ("bool in shape", _env(_raw("<d", [True], b"\x00" * 8))),
    ("float in shape", _env(_raw("<d", [1.0], b"\x00" * 8))),
    ("too many dims", _env(_raw("<d", [1] * 65, b"\x00" * 8))),
    ("F order 1-d", _env(_raw("<d", [2], b"\x00" * 16, order="F"))),
    ("bad order", _env(_raw("<d", [2], b"\x00" * 16, order="K"))),
    ("bool byte 2", _env(_raw("|b1", [2], b"\x00\x02"))),
    ("bad code point", _env(_raw("<U1", [1], b"\xff\xff\xff\xff"))),
    ("b64 not str", _env({**_raw("<d", [1], b"\x00" * 8), "b64": 5})),
    ("objarray count", _env({"t": "objarray", "shape": [3], "items": [1]})),
    ("objarray huge", _env({"t": "objarray", "shape": [10**12], "items": []})),
    (
        "strarray non str",
        _env({"t": "strarray", "shape": [1], "na": None, "coerce": True, "items": [1]}),
    ),
    (
        "strarray missing without na",
        _env({"t": "strarray", "shape": [1], "na": None, "coerce": True, "items": [None]}),
    ),
    ("np scalar wrong size", _env({"t": "np", "dtype": "<d", "b64": "AAAA"})),
    ("np scalar U", _env({"t": "np", "dtype": "<U1", "b64": "YQAAAA=="})),
    ("timestamp bad unit", _env({"t": "timestamp", "unit": "D", "value": 1, "tz": None})),
    ("timestamp NaT value", _env({"t": "timestamp", "unit": "ns", "value": -(2**63), "tz": None})),
    ("timestamp float value", _env({"t": "timestamp", "unit": "ns", "value": 1.0, "tz": None})),
    (
        "tz path",
        _env({"t": "timestamp", "unit": "ns", "value": 1, "tz": {"zone": "../../etc/passwd"}}),
    ),
    (
        "tz unknown",
        _env({"t": "timestamp", "unit": "ns", "value": 1, "tz": {"zone": "Mars/Olympus"}}),
    ),
    (
        "tz absolute",
        _env({"t": "timestamp", "unit": "ns", "value": 1, "tz": {"zone": "/etc/localtime"}}),
    ),
    (
        "tz offset too big",
        _env(
            {"t": "timestamp", "unit": "ns", "value": 1, "tz": {"offset_us": 10**12, "name": None}}
        ),
    ),
    ("tz garbage", _env({"t": "timestamp", "unit": "ns", "value": 1, "tz": "Europe/Paris"})),
    ("period bad freq", _env({"t": "period", "ordinal": 1, "freq": "fortnightly"})),
    ("period freq junk", _env({"t": "period", "ordinal": 1, "freq": "M; import os"})),
    ("interval reversed", _env({"t": "interval", "left": 2, "right": 1, "closed": "right"})),
    ("interval bad closed", _env({"t": "interval", "left": 1, "right": 2, "closed": "up"})),
    (
        "interval of lists",
        _env({"t": "interval", "left": {"t": "list", "items": []}, "right": 2, "closed": "right"}),
    ),
    ("range step 0", _env({"t": "range", "start": 0, "stop": 2, "step": 0, "name": None})),
    ("range huge", _env({"t": "range", "start": 0, "stop": 2**62, "step": 1, "name": None})),
    ("range float", _env({"t": "range", "start": 0.0, "stop": 2, "step": 1, "name": None})),
    (
        "index unhashable name",
        _env({"t": "index", "name": {"t": "list", "items": []}, "values": F8, "freq": None}),
    ),
    (
        "index 2-d values",
        _env({"t": "index", "name": None, "values": _raw("<d", [1, 1], b"\x00" * 8), "freq": None}),
    ),
    (
        "index float16",
        _env({"t": "index", "name": None, "values": _raw("<e", [1], b"\x00" * 2), "freq": None}),
    ),
    ("index freq on ints", _env({"t": "index", "name": None, "values": F8, "freq": "D"})),
    (
        "index freq mismatch",
        _env(
            {
                "t": "index",
                "name": None,
                "values": _raw("<M8[ns]", [2], b"\x00" * 8 + b"\x01" + b"\x00" * 7),
                "freq": "D",
            }
        ),
    ),
    (
        "index column tag unknown",
        _env({"t": "index", "name": None, "values": {"t": "list", "items": []}, "freq": None}),
    ),
    ("series length", _env(_series_of(_raw("<d", [3], b"\x00" * 24)))),
    ("series values bare", _env(_series_of([1, 2]))),
    ("series index not index", _env(_series_of(F8, index=F8))),
    ("series M8[D] values", _env(_series_of(_raw("<M8[D]", [2], b"\x00" * 16)))),
    ("series dup not bool", _env({**_series_of(F8), "dup": 1})),
    (
        "series dup false with duplicates",
        _env(
            {
                **_series_of(
                    F8,
                    index={
                        "t": "index",
                        "name": None,
                        "values": _raw("<q", [2], b"\x00" * 16),
                        "freq": None,
                    },
                ),
                "dup": False,
            }
        ),
    ),
    (
        "categorical codes out of range",
        _env(
            _series_of(
                {
                    "t": "categorical",
                    "categories": {
                        "t": "index",
                        "name": None,
                        "values": _raw("<q", [2], b"\x00" * 8 + b"\x01" + b"\x00" * 7),
                        "freq": None,
                    },
                    "ordered": False,
                    "codes": I8_CODES,
                }
            )
        ),
    ),
    (
        "categorical duplicate categories",
        _env(
            _series_of(
                {
                    "t": "categorical",
                    "categories": {
                        "t": "index",
                        "name": None,
                        "values": _raw("<q", [2], b"\x00" * 16),
                        "freq": None,
                    },
                    "ordered": False,
                    "codes": _raw("|b", [2], b"\x00\x00"),
                }
            )
        ),
    ),
    (
        "categorical float codes",
        _env(_series_of({"t": "categorical", "categories": RANGE2, "ordered": False, "codes": F8})),
    ),
    (
        "categorical ordered not bool",
        _env(
            _series_of(
                {
                    "t": "categorical",
                    "categories": RANGE2,
                    "ordered": 0,
                    "codes": _raw("|b", [2], b"\x00\x00"),
                }
            )
        ),
    ),
    (
        "categorical of categorical",
        _env(
            _series_of(
                _nest(
                    150,
                    lambda v: {
                        "t": "categorical",
                        "categories": {"t": "index", "name": None, "values": v, "freq": None},
                        "ordered": False,
                        "codes": _raw("|b", [2], b"\x00\x00"),
                    },
                )
            )
        ),
    ),
    (
        "string bad storage",
        _env(
            _series_of({"t": "string", "storage": "arrow_numpy", "na": "NA", "items": ["a", "b"]})
        ),
    ),
    (
        "string non str",
        _env(_series_of({"t": "string", "storage": "python", "na": "NA", "items": ["a", 1]})),
    ),
    (
        "masked lengths",
        _env(_series_of({"t": "masked", "data": F8, "mask": _raw("|b1", [1], b"\x00")})),
    ),
    (
        "masked float16",
        _env(
            _series_of(
                {
                    "t": "masked",
                    "data": _raw("<e", [2], b"\x00" * 4),
                    "mask": _raw("|b1", [2], b"\x00\x00"),
                }
            )
        ),
    ),
    ("masked mask not bool", _env(_series_of({"t": "masked", "data": F8, "mask": F8}))),
    (
        "datetimetz not datetimes",
        _env(_series_of({"t": "datetimetz", "utc": F8, "tz": {"zone": "UTC"}})),
    ),
    (
        "datetimetz days",
        _env(
            _series_of(
                {"t": "datetimetz", "utc": _raw("<M8[D]", [2], b"\x00" * 16), "tz": {"zone": "UTC"}}
            )
        ),
    ),
    (
        "intervals mismatched",
        _env(
            _series_of(
                {
                    "t": "intervals",
                    "left": F8,
                    "right": _raw("<q", [2], b"\x00" * 16),
                    "closed": "right",
                }
            )
        ),
    ),
    (
        "intervals reversed",
        _env(
            _series_of(
                {
                    "t": "intervals",
                    "left": _raw("<d", [2], struct.pack("<dd", 2, 2)),
                    "right": F8,
                    "closed": "right",
                }
            )
        ),
    ),
    (
        "periods bad freq",
        _env(
            _series_of(
                {"t": "periods", "ordinals": _raw("<l", [2], b"\x00" * 16), "freq": "parsec"}
            )
        ),
    ),
    (
        "periods int32",
        _env(_series_of({"t": "periods", "ordinals": _raw("<i", [2], b"\x00" * 8), "freq": "M"})),
    ),
    ("multi no levels", _env({"t": "multi", "names": [], "levels": [], "codes": []})),
    (
        "multi codes out of range",
        _env({"t": "multi", "names": [None], "levels": [RANGE2], "codes": [I8_CODES]}),
    ),
    (
        "multi codes lengths",
        _env(
            {
                "t": "multi",
                "names": [None, None],
                "levels": [RANGE2, RANGE2],
                "codes": [I8_CODES, _raw("|b", [1], b"\x00")],
            }
        ),
    ),
    (
        "multi names count",
        _env(
            {
                "t": "multi",
                "names": [None, None],
                "levels": [RANGE2],
                "codes": [_raw("|b", [2], b"\x00\x01")],
            }
        ),
    ),
    (
        "multi duplicate level values",
        _env(
            {
                "t": "multi",
                "names": [None],
                "levels": [
                    {
                        "t": "index",
                        "name": None,
                        "values": _raw("<q", [2], b"\x00" * 16),
                        "freq": None,
                    }
                ],
                "codes": [_raw("|b", [2], b"\x00\x01")],
            }
        ),
    ),
    (
        "frame column count",
        _env({"t": "frame", "index": RANGE2, "columns": RANGE2, "data": [F8], "dup": True}),
    ),
    (
        "frame column length",
        _env(
            {
                "t": "frame",
                "index": RANGE2,
                "columns": {"t": "range", "start": 0, "stop": 1, "step": 1, "name": None},
                "data": [_raw("<d", [1], b"\x00" * 8)],
                "dup": True,
            }
        ),
    ),
    (
        "frame data not list",
        _env({"t": "frame", "index": RANGE2, "columns": RANGE2, "data": {}, "dup": True}),
    ),
    (
        "frame U column",
        _env(
            {
                "t": "frame",
                "index": RANGE2,
                "columns": {"t": "range", "start": 0, "stop": 1, "step": 1, "name": None},
                "data": [_raw("<U1", [2], b"a\x00\x00\x00b\x00\x00\x00")],
                "dup": True,
            }
        ),
    ),
    ("array of list", _env({"t": "array", "values": {"t": "list", "items": []}})),
    ("array of M8[D]", _env({"t": "array", "values": _raw("<M8[D]", [1], b"\x00" * 8)})),
]


@pytest.mark.parametrize(("label", "tree"), MALFORMED, ids=[label for label, _ in MALFORMED])
def test_malformed_input_is_refused(label: str, tree: Any) -> None:
    with pytest.raises(MalformedData):
        decode(tree)


def test_decode_size_limit() -> None:
    tree = wire(np.zeros(1000))
    decode(tree, max_bytes=10_000)
    with pytest.raises(MalformedData, match="size limit"):
        decode(tree, max_bytes=4_000)
    with pytest.raises(MalformedData, match="size limit"):
        decode(wire("x" * 5000), max_bytes=4_000)


def test_decode_item_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = wire(list(range(1001)))
    monkeypatch.setattr(plaindata, "MAX_ITEMS", 1000)
    with pytest.raises(MalformedData, match="too many values"):
        decode(tree)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(
        ["list", "dict", "ndarray", "objarray", "<d", "|b1", "|O", "<U2", "C", "F", "UTC", "M"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "t",
                    "items",
                    "keys",
                    "values",
                    "dtype",
                    "shape",
                    "order",
                    "b64",
                    "name",
                    "index",
                    "columns",
                    "data",
                    "dup",
                    "freq",
                    "start",
                    "stop",
                    "step",
                    "levels",
                    "codes",
                    "names",
                    "categories",
                    "ordered",
                    "tz",
                    "unit",
                    "value",
                    "utc",
                ]
            )
            | st.text(max_size=3),
            inner,
            max_size=6,
        )
        | st.builds(
            lambda tag, rest: {**rest, "t": tag},
            st.sampled_from([*sorted(plaindata._VALUE_TAGS), "categorical", "string", "masked"]),
            st.dictionaries(
                st.sampled_from(
                    [
                        "items",
                        "keys",
                        "values",
                        "dtype",
                        "shape",
                        "b64",
                        "name",
                        "index",
                        "values",
                        "freq",
                        "dup",
                        "data",
                        "columns",
                    ]
                ),
                inner,
                max_size=5,
            ),
        )
    ),
    max_leaves=30,
)


def _decodes_or_refuses(tree: Any) -> None:
    with contextlib.suppress(MalformedData):
        decode(tree)


@FAST
@given(JSON)
def test_property_random_json_decodes_or_is_malformed(tree: Any) -> None:
    _decodes_or_refuses({"plain": 1, "value": tree})
    _decodes_or_refuses(tree)


SEEDS = [
    [1, "a", {"k": (1.5, None)}],
    np.arange(6.0).reshape(2, 3),
    np.array([1, "a"], dtype=object),
    _screenings(),
    _screenings().groupby(["genre", "year"]).size(),
    pd.Series(pd.Categorical(["a", "b", "a"])),
    pd.Series(pd.date_range("2019", periods=2, tz="Europe/Paris", freq="D")),
    pd.Series([1, None], dtype="Int64", index=pd.date_range("2019", periods=2, freq="D")),
    pd.Series(pd.cut([1, 5, 9], 3)),
    pd.Timestamp("2019", tz="UTC"),
]


def _paths(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if type(tree) is dict:
        for k, v in tree.items():
            yield from _paths(v, (*path, k))
    elif type(tree) is list:
        for i, v in enumerate(tree):
            yield from _paths(v, (*path, i))


def _replace(tree: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(tree) if type(tree) is dict else list(tree)
    copy[path[0]] = _replace(tree[path[0]], path[1:], new)
    return copy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_property_mutated_encodings_decode_or_are_malformed(data: st.DataObject) -> None:
    tree = wire(data.draw(st.sampled_from(SEEDS), label="seed"))
    paths = list(_paths(tree))
    path = data.draw(st.sampled_from(paths), label="path")
    new = data.draw(JSON, label="new")
    _decodes_or_refuses(_replace(tree, path, new))
