"""Known answers for the drift statistics: fixtures built here with seeded numpy go through
``forja.drift`` (POST /api/v1/drift), and every number that comes back is compared with scipy
computed here, and PSI with a numpy re-implementation of Evidently's documented rule, to 1e-6.
When ``evidently`` is importable (the drift bench's environment has it) its numbers are compared too."""

from __future__ import annotations

import math

import forja
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

TOL = 1e-6


def close(actual, expected, what):
    assert actual is not None, what
    assert math.isclose(actual, expected, rel_tol=TOL, abs_tol=1e-12), f"{what}: {actual} vs {expected}"


def evidently_bins(ref: np.ndarray, cur: np.ndarray, numerical: bool, fill: bool):
    """Evidently's get_binned_data, from its documentation: Sturges bins over both samples for numbers
    with more than 20 distinct reference values, else one bin per value of ref ∪ cur; empty bins get
    1e-4, or the smallest non-zero share / 10⁶ when that is ≤ 1e-4, side by side, never renormalised."""
    if numerical and len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = sorted(set(ref.tolist()) | set(cur.tolist()))
        r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
    if fill:
        for s in (r, c):
            smallest = s[s != 0].min()
            s[s == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return r, c


def psi(ref, cur, numerical=True):
    r, c = evidently_bins(ref, cur, numerical, True)
    return float(np.sum((r - c) * np.log(r / c)))


def chi2(ref, cur):
    keys = sorted(set(ref.tolist()) | set(cur.tolist()))
    expected = [np.sum(ref == k) * len(cur) / len(ref) for k in keys]
    observed = [np.sum(cur == k) for k in keys]
    return stats.chisquare(observed, expected)


def ztest(ref, cur):
    key = sorted(set(ref.tolist()) | set(cur.tolist()))[0]
    p1, p2 = np.mean(ref == key), np.mean(cur == key)
    pooled = (p1 * len(ref) + p2 * len(cur)) / (len(ref) + len(cur))
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
    return z, 2 * (1 - stats.norm.cdf(abs(z)))


def by_column(report):
    out = {}
    for c in report["columns"]:
        out[c["column"]] = {c["result"]["method"]: c["result"], **{o["method"]: o for o in c["others"]}, "_": c}
    return out


@pytest.fixture(scope="module")
def client(server):
    from conftest import ADMIN_TOKEN

    with forja.Client(base_url=server.url, token=ADMIN_TOKEN) as c:
        yield c


def test_small_samples_ks_chi2_z_exact(client):
    rng = np.random.default_rng(17)
    ref = pd.DataFrame(
        {
            "normal": rng.normal(0, 1, 800),
            "ties": rng.integers(0, 40, 800).astype(float),
            "grade": rng.choice(["a", "b", "c", "d"], 800, p=[0.4, 0.3, 0.2, 0.1]),
            "flag": rng.choice(["no", "yes"], 800, p=[0.7, 0.3]),
            "level": rng.integers(1, 5, 800),
        }
    )
    cur = pd.DataFrame(
        {
            "normal": rng.normal(0.25, 1.1, 600),
            "ties": rng.integers(3, 43, 600).astype(float),
            "grade": rng.choice(["a", "b", "c", "d"], 600, p=[0.3, 0.3, 0.25, 0.15]),
            "flag": rng.choice(["no", "yes"], 600, p=[0.6, 0.4]),
            "level": rng.integers(1, 5, 600),
        }
    )
    report = forja.drift(ref, cur, client=client, also_compute=["psi", "jensenshannon", "wasserstein"])
    got = by_column(report)
    for col in ["normal", "ties"]:
        r, c = ref[col].to_numpy(), cur[col].to_numpy()
        ks = stats.ks_2samp(r, c)
        assert got[col]["_"]["kind"] == "numerical" and got[col]["ks"]["pValueMethod"] == "exact"
        close(got[col]["ks"]["statistic"], ks.statistic, f"{col} KS statistic")
        close(got[col]["ks"]["pValue"], ks.pvalue, f"{col} KS p-value")
        assert got[col]["_"]["drifted"] == (ks.pvalue <= 0.05)
        close(got[col]["wasserstein"]["statistic"], stats.wasserstein_distance(r, c) / max(np.std(r), 0.001), f"{col} Wasserstein")
        close(got[col]["psi"]["statistic"], psi(r, c), f"{col} PSI")
        close(got[col]["jensenshannon"]["statistic"], distance.jensenshannon(*evidently_bins(r, c, True, False)), f"{col} JS")
    # level: 4 integer values, n ≤ 1000 → chi²; grade: 4 categories → chi²; flag: 2 → Z.
    for col in ["grade", "level"]:
        expected = chi2(ref[col].to_numpy(), cur[col].to_numpy())
        assert "chisquare" in got[col], got[col].keys()
        close(got[col]["chisquare"]["statistic"], expected.statistic, f"{col} chi² statistic")
        close(got[col]["chisquare"]["pValue"], expected.pvalue, f"{col} chi² p-value")
        close(got[col]["psi"]["statistic"], psi(ref[col].to_numpy(), cur[col].to_numpy(), False), f"{col} PSI")
    z, p = ztest(ref["flag"].to_numpy(), cur["flag"].to_numpy())
    close(got["flag"]["z"]["statistic"], z, "Z statistic")
    close(got["flag"]["z"]["pValue"], p, "Z p-value")
    assert got["flag"]["_"]["drifted"] == (p < 0.05)


def test_equal_sizes_take_scipys_square_path(client):
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=500)})
    cur = pd.DataFrame({"x": rng.normal(0.2, size=500)})
    got = by_column(forja.drift(ref, cur, client=client))["x"]["ks"]
    ks = stats.ks_2samp(ref.x, cur.x)
    close(got["statistic"], ks.statistic, "KS statistic")
    close(got["pValue"], ks.pvalue, "KS p-value")


def test_large_samples_wasserstein_js_psi_and_asymptotic_ks(client):
    rng = np.random.default_rng(23)
    ref = pd.DataFrame({"amount": rng.lognormal(3, 0.6, 30_000), "region": rng.choice(list("nsewc"), 30_000, p=[0.3, 0.25, 0.2, 0.15, 0.1])})
    cur = pd.DataFrame({"amount": rng.lognormal(3.05, 0.6, 20_000), "region": rng.choice(list("nsewc"), 20_000, p=[0.25, 0.25, 0.2, 0.2, 0.1])})
    report = forja.drift(ref, cur, client=client, also_compute=["psi", "ks", "jensenshannon"])
    got = by_column(report)
    r, c = ref.amount.to_numpy(), cur.amount.to_numpy()
    assert got["amount"]["_"]["result"]["method"] == "wasserstein"
    close(got["amount"]["wasserstein"]["statistic"], stats.wasserstein_distance(r, c) / np.std(r), "Wasserstein")
    ks = stats.ks_2samp(r, c)
    assert got["amount"]["ks"]["pValueMethod"] == "asymp"
    close(got["amount"]["ks"]["statistic"], ks.statistic, "KS statistic")
    close(got["amount"]["ks"]["pValue"], ks.pvalue, "KS p-value (asymptotic)")
    close(got["amount"]["psi"]["statistic"], psi(r, c), "PSI")
    assert got["amount"]["psi"]["bins"] == len(np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")) - 1
    close(got["amount"]["jensenshannon"]["statistic"], distance.jensenshannon(*evidently_bins(r, c, True, False)), "JS")
    g_r, g_c = ref.region.to_numpy(), cur.region.to_numpy()
    assert got["region"]["_"]["result"]["method"] == "jensenshannon"
    close(got["region"]["jensenshannon"]["statistic"], distance.jensenshannon(*evidently_bins(g_r, g_c, False, False)), "JS categories")
    close(got["region"]["psi"]["statistic"], psi(g_r, g_c, False), "PSI categories")


def test_tiny_shares_get_evidentlys_smaller_epsilon(client):
    # One value in 40,000 makes the smallest share 2.5e-5 ≤ 1e-4, so empty bins get 2.5e-11.
    rng = np.random.default_rng(9)
    ref = np.concatenate([rng.normal(size=39_999), [40.0]])
    cur = rng.normal(3, 1, size=30_000)
    got = by_column(forja.drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), client=client, numerical_method="psi"))["x"]["psi"]
    close(got["statistic"], psi(ref, cur), "PSI with the tiny ε")
    assert math.isclose(got["epsilon"], 2.5e-5 / 1e6, rel_tol=1e-9)


def test_nan_and_inf_are_dropped_before_the_tests_and_counted(client):
    rng = np.random.default_rng(31)
    r = rng.normal(size=700)
    c = rng.normal(0.3, 1, size=500)
    r_dirty, c_dirty = r.copy(), c.copy()
    r_dirty[:35] = np.nan
    r_dirty[35:42] = np.inf
    c_dirty[:10] = -np.inf
    c_dirty[10:15] = np.nan
    report = forja.drift(pd.DataFrame({"x": r_dirty}), pd.DataFrame({"x": c_dirty}), client=client, also_compute=["psi"])
    col = report["columns"][0]
    assert col["missing"] == {"reference": 35, "current": 5}
    assert col["infinite"] == {"reference": 7, "current": 10}
    clean_r, clean_c = r[42:], c[15:]
    ks = stats.ks_2samp(clean_r, clean_c)
    close(col["result"]["pValue"], ks.pvalue, "KS p-value without NaN/Inf")
    close(col["others"][0]["statistic"], psi(clean_r, clean_c), "PSI without NaN/Inf")


def test_bad_input_is_a_400_naming_it(client):
    ref = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(forja.InvalidArgument, match="reference has no rows"):
        forja.drift(ref.iloc[0:0], ref, client=client)
    with pytest.raises(forja.InvalidArgument, match="ghost"):
        forja.drift(ref, ref, client=client, columns=["x", "ghost"])


def test_matches_evidently_when_installed(client):
    pytest.importorskip("evidently")
    from evidently.legacy.metrics import ColumnDriftMetric
    from evidently.legacy.report import Report

    rng = np.random.default_rng(41)
    ref = pd.DataFrame({"small": rng.normal(size=900), "big": rng.gamma(2, 2, 5000)[:900], "kind": rng.choice(list("abc"), 900)})
    cur = pd.DataFrame({"small": rng.normal(0.1, 1, 700), "big": rng.gamma(2.2, 2, 700), "kind": rng.choice(list("abcd"), 700)})
    methods = {"small": ["ks", "psi", "wasserstein", "jensenshannon"], "big": ["psi", "ks"], "kind": ["psi", "jensenshannon", "chisquare"]}
    got = by_column(forja.drift(ref, cur, client=client, also_compute=["psi", "ks", "wasserstein", "jensenshannon", "chisquare"]))
    metrics = [ColumnDriftMetric(col, stattest=m) for col, ms in methods.items() for m in ms]
    report = Report(metrics=metrics)
    report.run(reference_data=ref, current_data=cur)
    for metric, (col, m) in zip(report.as_dict()["metrics"], [(c, m) for c, ms in methods.items() for m in ms]):
        ours = got[col][m]
        value = ours["pValue"] if m in ("ks", "chisquare", "z") else ours["statistic"]
        close(value, float(metric["result"]["drift_score"]), f"Evidently {m} on {col}")
