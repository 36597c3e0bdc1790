# The poisson schedule's reference: xoshiro256** seeded by splitmix64 (as metrics.c
# documents), u = top 53 bits / 2^53, gap = -log1p(-u) / rate, written independently here.
import numpy as np
M=(1<<64)-1
def splitmix(x):
    x=(x+0x9E3779B97F4A7C15)&M
    z=x
    z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M
    z=((z^(z>>27))*0x94D049BB133111EB)&M
    return x, z^(z>>31)
def rotl(x,k): return ((x<<k)|(x>>(64-k)))&M
class R:
    def __init__(s,seed):
        x=seed; s.s=[]
        for i in range(4):
            x,v=splitmix(x); s.s.append(v)
    def u64(s):
        S=s.s
        res=(rotl((S[1]*5)&M,7)*9)&M
        t=(S[1]<<17)&M
        S[2]^=S[0]; S[3]^=S[1]; S[1]^=S[2]; S[0]^=S[3]; S[2]^=t; S[3]=rotl(S[3],45)
        return res
r=R(12345)
t=np.float64(0.0); out=[]
for i in range(6):
    out.append(float(t))
    u=np.float64(r.u64()>>11)*np.float64(2.0**-53)
    t=t+ -np.log1p(-u)/np.float64(4.0)*np.float64(1000.0)
print(", ".join("%.17g" % v for v in out))
# n_open for poisson, rate 4, duration 2000 ms, seed 12345: due times < 2000
r=R(12345); t=0.0; n=0
while t < 2000:
    u=(r.u64()>>11)*2.0**-53; t+= -np.log1p(-u)/4.0*1000.0; n+=1
print(n)
# mean gap over 200000 draws (seed 99), rate 10 -> 100 ms
r=R(99); g=[-np.log1p(-((r.u64()>>11)*2.0**-53))/10*1000 for _ in range(200000)]
print("%.17g" % np.mean(g))
