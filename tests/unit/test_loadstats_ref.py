# Reference values for tests/unit/test_loadstats.c and test_loadstats_coverage.c, run with
# /usr/bin/python3 (numpy 1.24): every constant those tests compare with is printed here.

import numpy as np
nan = float('nan')
W, M, C = 0, 1, 2
OK, ERR, TO, UNS = 0, 1, 2, 3
# phase status scheduled sent ttft e2e itl_mean itl_max tpot ntok correct valid
R = [
 (W, OK, 0, 1, 50, 400, 20, 30, 25, 15, 1, 1),
 (W, OK, 100, 101, 60, 500, 22, 40, 27, 16, 1, 1),
 (M, OK, 200, 203, 80, 600, 25, 60, 30, 18, 1, 1),
 (M, OK, 300, 302, 120, 700, 28, 80, 32, 19, 0, 1),
 (M, OK, 400, 410, 150, 650, 20, 31, 22, 23, 1, 1),
 (M, OK, 500, 505, 90, 1200, 35, 90, 40, 31, 1, 1),
 (M, OK, 600, 601, 300, 900, 18, 25, 20, 31, 0, 0),
 (M, OK, 700, 712, 110, 800, 26, 44, 28, 26, 1, 1),
 (M, OK, 800, 809, 70, 300, nan, nan, nan, 1, 1, 1),
 (M, OK, 900, 950, nan, 500, 15, 20, 17, 25, 1, 1),
 (M, OK, 1000, 1004, 130, 950, 29, 70, 31, 27, -1, -1),
 (M, ERR, 1100, 1102, nan, 30, nan, nan, nan, 0, -1, -1),
 (M, ERR, 1200, 1230, nan, 45, nan, nan, nan, 0, -1, -1),
 (M, TO, 1300, 1301, nan, 5000, nan, nan, nan, 0, -1, -1),
 (M, UNS, 1400, nan, nan, nan, nan, nan, nan, 0, -1, -1),
 (C, OK, 1500, 1500, 40, 350, 19, 22, 20, 14, 1, 1),
]
window = 8000.0
slo = dict(ttft=200.0, itl=nan, tpot=30.0, e2e=1000.0, q=90.0)
meas = [r for r in R if r[0] == M and r[1] != UNS]
ans = [r for r in meas if r[1] == OK]
# an open loop (scheduled times): the rates are per the span of the measured requests'
# send times times k/(k - 1) (loadstats.c level_secs), not per the window
sent = [r[3] for r in meas]
secs = (max(sent) - min(sent)) / 1000 * len(sent) / (len(sent) - 1)
print("open-loop seconds", repr(secs), "closed-loop (window) seconds", window / 1000)
print("n_measured", len(meas), "answered", len(ans))
print("achieved", repr(len(meas) / secs), "throughput", repr(len(ans) / secs),
      "tok_s", repr(sum(r[9] for r in ans) / secs))
def good(r):
    if r[1] != OK: return False
    if not (r[4] <= slo['ttft']): return False   # NaN TTFT fails
    if not np.isnan(r[8]) and r[8] > slo['tpot']: return False
    if not (r[5] <= slo['e2e']): return False
    return True
g = sum(good(r) for r in meas)
print("good", g, "goodput", repr(g / secs), "share", g / len(meas))
print("err", sum(r[1] == ERR for r in meas) / len(meas), "to", sum(r[1] == TO for r in meas) / len(meas))
sc = [r for r in ans if r[10] >= 0]
print("acc", sum(r[10] == 1 for r in sc) / len(sc))
vd = [r for r in ans if r[11] >= 0]
print("invalid", sum(r[11] == 0 for r in vd) / len(vd))
for name, col in (("ttft", 4), ("itl", 6), ("tpot", 8), ("e2e", 5)):
    v = np.array([r[col] for r in ans], float); v = v[np.isfinite(v)]
    print(name, len(v), [repr(float(np.percentile(v, p))) for p in (50, 90, 90)])
se = np.array([r[3] - r[2] for r in meas], float)
print("send_err", repr(float(np.percentile(se, 50))), repr(float(np.percentile(se, 99))))
# lateness regression of a small level for the saturation test's slope
x = np.arange(12) * 100.0
late = np.array([0, 3, 1, 40, 90, 120, 180, 200, 260, 310, 330, 400], float)
b, a = np.polyfit(x, late, 1)
res = late - (a + b * x)
se_b = np.sqrt(np.sum(res**2) / (len(x) - 2) / np.sum((x - x.mean())**2))
rho = min(max(np.sum(res[1:] * res[:-1]) / np.sum(res**2), 0.0), 0.99)  # lag-1, residuals
se_ar = se_b * np.sqrt((1 + rho) / (1 - rho))   # the AR(1) widening of loadstats.c
print("slope", repr(b), "se", repr(se_b), "rho", repr(rho), "lb(t10=2.2281)",
      repr(b - 2.2281 * se_ar), "growth", repr(b * 1100))
slo = dict(ttft=200.0, itl=nan, tpot=40.0, e2e=1500.0, q=50.0)
print("loose good", sum(good(r) for r in meas))

# ---- test_loadstats_coverage.c: the exact order-statistic interval
# The exact distribution-free 95% interval of the q-quantile from n values:
# [X(l), X(u)] (1-based order statistics), B ~ Bin(n, q) the count below the quantile,
# l = the largest l >= 1 with P(B <= l-1) <= 0.025 (0: undefined),
# u = the smallest u <= n with P(B <= u-1) >= 0.975 (n+1: undefined). Exact rationals.
from fractions import Fraction
from math import comb
def exact(n, q):
    q = Fraction(q)
    cdf, cum = [], Fraction(0)
    for b in range(n + 1):
        cum += comb(n, b) * q**b * (1 - q)**(n - b)
        cdf.append(cum)
    l = 0
    for cand in range(1, n + 1):
        if cdf[cand - 1] <= Fraction(1, 40): l = cand
    u = n + 1
    for cand in range(n, 0, -1):
        if cdf[cand - 1] >= Fraction(39, 40): u = cand
    cov = (cdf[u - 1] if u <= n else 1) - (cdf[l - 1] if l >= 1 else 0)
    return l, u, float(cov)
for n in (50, 200, 1000):
    for q in (Fraction(1,2), Fraction(9,10), Fraction(99,100)):
        print(n, q, exact(n, q))
