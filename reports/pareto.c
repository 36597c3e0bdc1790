/* pareto.c — see pareto.h. Quadratic, which is fine for the handful of candidates a run
 * compares, and needs no sort whose tie order could decide membership. */
#include "pareto.h"

#include <math.h>

int slm_pareto_dominates(const double *acc, const double *lat, const unsigned char *faster,
                         size_t n, size_t j, size_t i)
{
    if (i == j || isnan(acc[j]) || isnan(lat[j]))
        return 0;
    int j_faster = faster ? faster[j * n + i] : lat[j] < lat[i];
    int i_faster = faster ? faster[i * n + j] : lat[i] < lat[j];
    return acc[j] >= acc[i] && !i_faster && (acc[j] > acc[i] || j_faster);
}

void slm_pareto_front(const double *acc, const double *lat, const unsigned char *faster,
                      size_t n, int *front)
{
    for (size_t i = 0; i < n; i++) {
        front[i] = !isnan(acc[i]) && !isnan(lat[i]);
        for (size_t j = 0; j < n && front[i]; j++)
            if (slm_pareto_dominates(acc, lat, faster, n, j, i))
                front[i] = 0;
    }
}
