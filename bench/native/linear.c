/*
 * Plain C -O2 loops of the two linear-model updates benchmarked in bench/suites/linear.bench.ts, measured
 * in the same run as the TypeScript model:
 *   dense:  logistic regression, d = 100, SGD constant rate, L2 prox w <- (w - eta*g*x) / (1 + eta*l2)
 *   ftrl:   FTRL-Proximal (McMahan et al. 2013, Alg. 1) logistic, 2^20 weights, 100 active per event,
 *           lambda = t*(l1, l2) as in src/models/optim/ftrl.ts
 * Usage: linear dense|ftrl EVENTS ROUNDS  -> JSON {"mode", "perEventNs": median over rounds, "check"}
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static double urand(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}
static double nrand(void) {
  double u = urand() + 1e-300, v = urand();
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double sigmoid(double z) {
  if (z >= 0) return 1 / (1 + exp(-z));
  double e = exp(z);
  return e / (1 + e);
}

#define D 100
#define NPOOL 1000

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *mode = argv[1];
  long events = atol(argv[2]);
  int rounds = atoi(argv[3]);
  double *times = malloc(sizeof(double) * rounds);
  double check = 0;
  if (strcmp(mode, "dense") == 0) {
    double *X = malloc(sizeof(double) * NPOOL * D), Y[NPOOL], w[D] = {0}, b = 0;
    for (int i = 0; i < NPOOL; i++) {
      double s = 0;
      for (int j = 0; j < D; j++) {
        X[i * D + j] = nrand();
        s += X[i * D + j] * (j < 10 ? 1 : 0);
      }
      Y[i] = s + nrand() > 0;
    }
    const double eta = 0.01, l2 = 1e-4, c = 1 / (1 + eta * l2);
    long k = 0;
    for (int r = 0; r < rounds; r++) {
      double t0 = now_ns();
      for (long e = 0; e < events; e++, k++) {
        const double *x = X + (k % NPOOL) * D;
        double z = b;
        for (int j = 0; j < D; j++) z += w[j] * x[j];
        double step = eta * (sigmoid(z) - Y[k % NPOOL]);
        for (int j = 0; j < D; j++) w[j] = (w[j] - step * x[j]) * c;
        b -= step;
      }
      times[r] = (now_ns() - t0) / events;
    }
    for (int j = 0; j < D; j++) check += w[j];
  } else {
    const int P = 1 << 20, A = 100;
    double *z = calloc(P + 1, sizeof(double)), *n = calloc(P + 1, sizeof(double)), *w = calloc(P + 1, sizeof(double));
    int *I = malloc(sizeof(int) * NPOOL * A);
    double *V = malloc(sizeof(double) * NPOOL * A), Y[NPOOL];
    for (int i = 0; i < NPOOL; i++) {
      for (int a = 0; a < A; a++) {
        I[i * A + a] = (int)(urand() * P);
        V[i * A + a] = 1;
      }
      Y[i] = urand() < 0.3;
    }
    const double alpha = 0.1, beta = 1, l1 = 1e-6, l2 = 1e-6;
    double t = 0;
    long k = 0;
    for (int r = 0; r < rounds; r++) {
      double t0 = now_ns();
      for (long e = 0; e < events; e++, k++) {
        const int *ix = I + (k % NPOOL) * A;
        const double *vx = V + (k % NPOOL) * A;
        const double L1 = t * l1, L2 = t * l2;
        double s = 0;
        for (int a = 0; a < A; a++) {
          int j = ix[a];
          double zj = z[j];
          double wj = fabs(zj) <= L1 ? 0 : -(zj - copysign(L1, zj)) / ((beta + sqrt(n[j])) / alpha + L2);
          w[j] = wj;
          s += wj * vx[a];
        }
        /* intercept: unpenalized FTRL coordinate P */
        double zb = z[P];
        double wb = -zb / ((beta + sqrt(n[P])) / alpha);
        s += wb;
        double g = sigmoid(s) - Y[k % NPOOL];
        for (int a = 0; a < A; a++) {
          int j = ix[a];
          double gj = g * vx[a], nn = n[j] + gj * gj;
          double sigma = (sqrt(nn) - sqrt(n[j])) / alpha;
          z[j] += gj - sigma * w[j];
          n[j] = nn;
        }
        double nb = n[P] + g * g;
        z[P] += g - (sqrt(nb) - sqrt(n[P])) / alpha * wb;
        n[P] = nb;
        t += 1;
      }
      times[r] = (now_ns() - t0) / events;
    }
    for (int j = 0; j < 1000; j++) check += z[j];
  }
  qsort(times, rounds, sizeof(double), cmp);
  printf("{\"mode\":\"%s\",\"perEventNs\":%.3f,\"check\":%.6g}\n", mode, times[rounds / 2], check);
  return 0;
}
