/*
 * Plain C (-O2) versions of the BatchNorm, LayerNorm and GroupNorm forward + backward loops that
 * src/normalizers runs (same passes, same float64 arithmetic, caller-owned buffers), as the speed
 * reference for bench/suites/normalizers.bench.ts. Keep it in step with the TypeScript: when a pass is
 * fused or split there, do the same here, so the ratio measures code generation, not algorithm.
 * One deliberate exception: the TypeScript GroupNorm backward takes its two gradient sums in one sweep
 * (sumDotRange) and LayerNorm pairs rows, while this file keeps two sweeps and one row at a time, because
 * fusing made the C slower here (same bits either way): the faster C is the harder reference.
 *
 * usage: normalizers.bin KIND N C L G [KIND N C L G ...]   (KIND = batch | layer | group)
 * prints a JSON array of { "kind", "shape", "medianNs" }: median time of one forward (training) +
 * backward call, over 15 rounds of enough repetitions to last about 20 ms each.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}


/* the same four-accumulator range reductions as src/normalizers/reduce.ts */
static inline double sum_range(const double *x, int o, int e) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int k = o;
  for (; k < e - 3; k += 4) {
    a0 += x[k];
    a1 += x[k + 1];
    a2 += x[k + 2];
    a3 += x[k + 3];
  }
  for (; k < e; k++) a0 += x[k];
  return a0 + a1 + (a2 + a3);
}
static inline double sqdev_range(const double *x, int o, int e, double mu) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int k = o;
  for (; k < e - 3; k += 4) {
    double t0 = x[k] - mu, t1 = x[k + 1] - mu, t2 = x[k + 2] - mu, t3 = x[k + 3] - mu;
    a0 += t0 * t0;
    a1 += t1 * t1;
    a2 += t2 * t2;
    a3 += t3 * t3;
  }
  for (; k < e; k++) {
    double t = x[k] - mu;
    a0 += t * t;
  }
  return a0 + a1 + (a2 + a3);
}
static inline double dot_range(const double *x, const double *y, int o, int e) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int k = o;
  for (; k < e - 3; k += 4) {
    a0 += x[k] * y[k];
    a1 += x[k + 1] * y[k + 1];
    a2 += x[k + 2] * y[k + 2];
    a3 += x[k + 3] * y[k + 3];
  }
  for (; k < e; k++) a0 += x[k] * y[k];
  return a0 + a1 + (a2 + a3);
}

/* src/normalizers/reduce.ts shiftedSums: Σ (x − s) and Σ (x − s)² in one pass, two chains each */
static inline void shifted_sums(const double *x, int o, int e, double sh, double *a, double *q) {
  double a0 = 0, a1 = 0, q0 = 0, q1 = 0;
  int k = o;
  for (; k < e - 1; k += 2) {
    double t0 = x[k] - sh, t1 = x[k + 1] - sh;
    a0 += t0;
    a1 += t1;
    q0 += t0 * t0;
    q1 += t1 * t1;
  }
  if (k < e) {
    double t = x[k] - sh;
    a0 += t;
    q0 += t * t;
  }
  *a = a0 + a1;
  *q = q0 + q1;
}

typedef struct {
  int n, c, l, g;
  double *x, *dy, *out, *dx, *xhat, *gamma, *beta, *dgamma, *dbeta, *mean, *var, *invstd, *sum1, *sum2;
  double *rm, *rv, *rowmean, *rowvar, *sums;
} Buf;

/* The TypeScript layers check that x and dy are finite on their first reduction (NaN and infinities
   propagate into the sums); a non-finite total sends them to an exact scan that throws. Same here. */
static void check_total(double total) {
  if (!isfinite(total)) abort();
}

static void bn_step(Buf *b) {
  const int n = b->n, c = b->c, l = b->l;
  const double m = (double)n * l, eps = 1e-5, mom = 0.1;
  double *x = b->x, *mean = b->mean, *var = b->var, *invstd = b->invstd;
  memset(mean, 0, c * sizeof(double));
  memset(var, 0, c * sizeof(double));
  /* one shifted pass for mean and variance (channelMoments) */
  for (int i = 0, o = 0; i < n; i++)
    for (int j = 0; j < c; j++, o += l) {
      double a, q;
      shifted_sums(x, o, o + l, x[j * l], &a, &q);
      mean[j] += a;
      var[j] += q;
    }
  double total = 0;
  for (int j = 0; j < c; j++) {
    double d = mean[j] / m, v = var[j] / m - d * d;
    mean[j] = x[j * l] + d;
    var[j] = v > 0 ? v : 0;
    total += mean[j] + v;
  }
  check_total(total);
  for (int j = 0; j < c; j++) {
    b->rm[j] = (1 - mom) * b->rm[j] + mom * mean[j];
    b->rv[j] = (1 - mom) * b->rv[j] + mom * var[j] * m / (m - 1);
    invstd[j] = 1 / sqrt(var[j] + eps);
  }
  for (int i = 0, o = 0; i < n; i++)
    for (int j = 0; j < c; j++, o += l) {
      double mu = mean[j], is = invstd[j], g = b->gamma[j], be = b->beta[j];
      for (int k = o; k < o + l; k++) {
        double h = (x[k] - mu) * is;
        b->xhat[k] = h;
        b->out[k] = g * h + be;
      }
    }
  /* backward */
  double *dy = b->dy, *xhat = b->xhat, *s1 = b->sum1, *s2 = b->sum2;
  memset(s1, 0, c * sizeof(double));
  memset(s2, 0, c * sizeof(double));
  for (int i = 0, o = 0; i < n; i++)
    for (int j = 0; j < c; j++, o += l) {
      double a0 = 0, a1 = 0, b0 = 0, b1 = 0;
      int k = o, e = o + l;
      for (; k < e - 1; k += 2) {
        a0 += dy[k];
        a1 += dy[k + 1];
        b0 += dy[k] * xhat[k];
        b1 += dy[k + 1] * xhat[k + 1];
      }
      if (k < e) {
        a0 += dy[k];
        b0 += dy[k] * xhat[k];
      }
      s1[j] += a0 + a1;
      s2[j] += b0 + b1;
    }
  total = 0;
  for (int j = 0; j < c; j++) total += s1[j] + s2[j];
  check_total(total);
  memcpy(b->dgamma, s2, c * sizeof(double));
  memcpy(b->dbeta, s1, c * sizeof(double));
  for (int i = 0, o = 0; i < n; i++)
    for (int j = 0; j < c; j++, o += l) {
      double sc = b->gamma[j] * invstd[j], mdy = s1[j] / m, mdyh = s2[j] / m;
      for (int k = o; k < o + l; k++) b->dx[k] = sc * (dy[k] - mdy - xhat[k] * mdyh);
    }
}

/* rows of len values; affine elementwise (LayerNorm) when cpr == 0, else per channel chunks (GroupNorm) */
static void rows_step(Buf *b, int rows, int len, int cpr, int rps) {
  const double eps = 1e-5;
  const int chunk = b->l;
  double *x = b->x, *xhat = b->xhat, *out = b->out, *g = b->gamma, *be = b->beta;
  double total = 0;
  for (int r = 0, o = 0; r < rows; r++, o += len) { /* rowMoments */
    double a, q, sh = x[o];
    shifted_sums(x, o, o + len, sh, &a, &q);
    double d = a / len, v = q / len - d * d;
    b->rowmean[r] = sh + d;
    b->rowvar[r] = v > 0 ? v : 0;
    total += b->rowmean[r] + v;
  }
  check_total(total);
  int r1 = 0;
  if (cpr == 0) /* LayerNorm: two rows per sweep, as rowsForwardElementwise */
    for (int o = 0; r1 + 1 < rows; r1 += 2, o += 2 * len) {
      double mu = b->rowmean[r1], is = 1 / sqrt(b->rowvar[r1] + eps);
      double nu = b->rowmean[r1 + 1], js = 1 / sqrt(b->rowvar[r1 + 1] + eps);
      b->invstd[r1] = is;
      b->invstd[r1 + 1] = js;
      for (int k = o, p = o + len, i = 0; i < len; k++, p++, i++) {
        double gi = g[i], bi = be[i], h0 = (x[k] - mu) * is, h1 = (x[p] - nu) * js;
        xhat[k] = h0;
        xhat[p] = h1;
        out[k] = gi * h0 + bi;
        out[p] = gi * h1 + bi;
      }
    }
  for (int r = r1, o = r1 * len; r < rows; r++, o += len) {
    double mu = b->rowmean[r];
    double is = 1 / sqrt(b->rowvar[r] + eps);
    b->invstd[r] = is;
    if (cpr == 0) {
      for (int k = o, i = 0; k < o + len; k++, i++) {
        double h = (x[k] - mu) * is;
        xhat[k] = h;
        out[k] = g[i] * h + be[i];
      }
    } else {
      int ch = (r % rps) * cpr, k = o;
      for (int q = 0; q < cpr; q++, ch++) {
        double gg = g[ch] * is, bb = be[ch];
        for (int e = k + chunk; k < e; k++) {
          double t = x[k] - mu;
          xhat[k] = t * is;
          out[k] = gg * t + bb;
        }
      }
    }
  }
  /* backward: every row's reductions first (dy checked on them), then dx */
  double *dy = b->dy, *dx = b->dx, *dg = b->dgamma, *db = b->dbeta, *sums = b->sums;
  total = 0;
  for (int r = 0, o = 0, p = 2 * rows; r < rows; r++, o += len) {
    double s1 = 0, s2 = 0;
    if (cpr == 0) {
      double s1b = 0, s2b = 0;
      int k = o, i = 0;
      for (; k < o + len - 1; k += 2, i += 2) {
        double g0 = dy[k] * g[i], g1 = dy[k + 1] * g[i + 1];
        s1 += g0;
        s1b += g1;
        s2 += g0 * xhat[k];
        s2b += g1 * xhat[k + 1];
      }
      if (k < o + len) {
        double g0 = dy[k] * g[i];
        s1 += g0;
        s2 += g0 * xhat[k];
      }
      s1 += s1b;
      s2 += s2b;
      total += s1 + s2;
    } else {
      int ch = (r % rps) * cpr, k = o;
      for (int q = 0; q < cpr; q++, ch++, k += chunk, p += 2) {
        double a = sum_range(dy, k, k + chunk), bq = dot_range(dy, xhat, k, k + chunk);
        s1 += g[ch] * a;
        s2 += g[ch] * bq;
        sums[p] = a;
        sums[p + 1] = bq;
        total += a + bq;
      }
    }
    sums[2 * r] = s1;
    sums[2 * r + 1] = s2;
  }
  check_total(total);
  memset(dg, 0, (cpr == 0 ? len : b->c) * sizeof(double));
  memset(db, 0, (cpr == 0 ? len : b->c) * sizeof(double));
  int r0 = 0;
  if (cpr == 0) /* LayerNorm: two rows per sweep, as rowsApplyElementwise */
    for (int o = 0; r0 + 1 < rows; r0 += 2, o += 2 * len) {
      double is = b->invstd[r0], m1 = sums[2 * r0] / len, m2 = sums[2 * r0 + 1] / len;
      double js = b->invstd[r0 + 1], n1 = sums[2 * r0 + 2] / len, n2 = sums[2 * r0 + 3] / len;
      for (int q = o, p = o + len, j = 0; j < len; q++, p++, j++) {
        double d0 = dy[q], h0 = xhat[q], d1 = dy[p], h1 = xhat[p], gj = g[j];
        dg[j] += d0 * h0 + d1 * h1;
        db[j] += d0 + d1;
        dx[q] = is * (d0 * gj - m1 - h0 * m2);
        dx[p] = js * (d1 * gj - n1 - h1 * n2);
      }
    }
  for (int r = r0, o = r0 * len, p = 2 * rows; r < rows; r++, o += len) {
    double is = b->invstd[r], m1 = sums[2 * r] / len, m2 = sums[2 * r + 1] / len;
    if (cpr == 0) {
      for (int q = o, j = 0; q < o + len; q++, j++) {
        double d = dy[q], h = xhat[q];
        dg[j] += d * h;
        db[j] += d;
        dx[q] = is * (d * g[j] - m1 - h * m2);
      }
    } else {
      int ch = (r % rps) * cpr, k = o;
      for (int q = 0; q < cpr; q++, ch++, p += 2) {
        db[ch] += sums[p];
        dg[ch] += sums[p + 1];
        double gm = g[ch];
        for (int e = k + chunk; k < e; k++) dx[k] = is * (gm * dy[k] - m1 - xhat[k] * m2);
      }
    }
  }
}

static double *alloc_fill(size_t n, double base, unsigned *seed) {
  double *p = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    p[i] = base + ((*seed >> 8) & 0xffff) / 65536.0 - 0.5;
  }
  return p;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  printf("[");
  for (int a = 1; a + 4 < argc; a += 5) {
    const char *kind = argv[a];
    Buf b;
    b.n = atoi(argv[a + 1]);
    b.c = atoi(argv[a + 2]);
    b.l = atoi(argv[a + 3]);
    b.g = atoi(argv[a + 4]);
    size_t size = (size_t)b.n * b.c * b.l;
    size_t plen = (size_t)b.c * b.l; /* enough for LayerNorm's elementwise affine */
    unsigned seed = 7;
    b.x = alloc_fill(size, 1, &seed);
    b.dy = alloc_fill(size, 0, &seed);
    b.out = calloc(size, sizeof(double));
    b.dx = calloc(size, sizeof(double));
    b.xhat = calloc(size, sizeof(double));
    b.gamma = alloc_fill(plen, 1, &seed);
    b.beta = alloc_fill(plen, 0, &seed);
    b.dgamma = calloc(plen, sizeof(double));
    b.dbeta = calloc(plen, sizeof(double));
    b.mean = calloc(b.c, sizeof(double));
    b.var = calloc(b.c, sizeof(double));
    b.invstd = calloc((size_t)b.n * b.c + 1, sizeof(double));
    b.sum1 = calloc(b.c, sizeof(double));
    b.sum2 = calloc(b.c, sizeof(double));
    b.rm = calloc(b.c, sizeof(double));
    b.rv = calloc(b.c, sizeof(double));
    b.rowmean = calloc((size_t)b.n * b.c + 1, sizeof(double));
    b.rowvar = calloc((size_t)b.n * b.c + 1, sizeof(double));
    b.sums = calloc(2 * ((size_t)b.n * b.c + 1) * 2, sizeof(double));
    int isBatch = strcmp(kind, "batch") == 0, isLayer = strcmp(kind, "layer") == 0;
#define STEP()                                                                  \
  do {                                                                          \
    if (isBatch)                                                                \
      bn_step(&b);                                                              \
    else if (isLayer)                                                           \
      rows_step(&b, b.n, b.c * b.l, 0, 1);                                      \
    else                                                                        \
      rows_step(&b, b.n * b.g, (b.c / b.g) * b.l, b.c / b.g, b.g);              \
  } while (0)
    /* calibrate repetitions to ~20 ms per round */
    long reps = 1;
    for (;;) {
      double t0 = now_ns();
      for (long r = 0; r < reps; r++) STEP();
      double dt = now_ns() - t0;
      if (dt > 2e7) break;
      reps *= 2;
    }
    double rounds[15];
    for (int q = 0; q < 15; q++) {
      double t0 = now_ns();
      for (long r = 0; r < reps; r++) STEP();
      rounds[q] = (now_ns() - t0) / reps;
    }
    qsort(rounds, 15, sizeof(double), cmp);
    double check = 0;
    for (size_t i = 0; i < size; i += 97) check += b.dx[i];
    printf("%s{\"kind\":\"%s\",\"shape\":[%d,%d,%d],\"groups\":%d,\"medianNs\":%.1f,\"minNs\":%.1f,\"checksum\":%.6g}",
           a == 1 ? "" : ",", kind, b.n, b.c, b.l, b.g, rounds[7], rounds[0], check);
    free(b.x); free(b.dy); free(b.out); free(b.dx); free(b.xhat); free(b.gamma); free(b.beta); free(b.dgamma);
    free(b.dbeta); free(b.mean); free(b.var); free(b.invstd); free(b.sum1); free(b.sum2); free(b.rm); free(b.rv);
    free(b.rowmean); free(b.rowvar); free(b.sums);
  }
  printf("]\n");
  return 0;
}
