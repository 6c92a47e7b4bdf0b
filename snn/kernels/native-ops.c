/*
 * spikenas' native ops for the tensorflow backend (CPU): the LIF scan, BatchNorm with per-timestep
 * statistics on a time-batched stack (SpikenasBatchNorm, below), and the spike Gram matrix SAHD takes
 * (SpikenasSpikeGram, below), and the momentum-SGD update of every trainable variable in one kernel
 * (SpikenasMomentumSgd, below).
 *
 * A LIF layer's scan over T timesteps as one TensorFlow op, forward and surrogate backward, for the
 * tensorflow backend (CPU): spikingjelly's fused CuPy neurons, in C against TensorFlow's C API. The
 * composite scan in snn/lif.ts is the reference and the path on every other backend; this computes the
 * same float operations in the same order (build with -ffp-contract=off), so the two agree exactly.
 *
 * SpikenasLif(x [T*B, ...] t-major, v0 [B, ...] or a scalar 0) -> spikes, charged (both [T*B, ...]),
 * v_last [B, ...]: per neuron, h_t = v_{t-1} decay + x_t scale, s_t = (h_t >= threshold), v_t = s_t ? 0 : h_t.
 *
 * SpikenasLifGrad(dspikes, dv_last (as v0), charged, spikes) -> dx, dv0: with gv = dL/dv_t,
 * g_t = dspikes_t * sigma'(h_t) + (1 - s_t) gv, gv <- g_t decay, dx_t = g_t scale; sigma' is the ATan
 * surrogate (slope / 2) / (1 + (zscale (h - threshold))^2), detached reset as spikingjelly's.
 *
 * Loaded into Node as an N-API module whose loading registers the ops (snn/kernels/native-ops.ts).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* ops.h names these structs C++-style; C needs the typedefs. */
typedef struct TF_DimensionHandle TF_DimensionHandle;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeHandle TF_ShapeHandle;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;

#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

/*
 * The part of tensorflow/c/kernels.h this uses, declared as it declares it: the wheel's include tree
 * lacks headers kernels.h includes (stream executor, rendezvous) that none of these need.
 */
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
extern TF_KernelBuilder *TF_NewKernelBuilder(const char *op_name, const char *device_name,
                                             void *(*create_func)(TF_OpKernelConstruction *),
                                             void (*compute_func)(void *, TF_OpKernelContext *),
                                             void (*delete_func)(void *));
extern void TF_RegisterKernelBuilder(const char *kernel_name, TF_KernelBuilder *builder, TF_Status *status);
extern void TF_GetInput(TF_OpKernelContext *ctx, int i, TF_Tensor **tensor, TF_Status *status);
extern int TF_NumInputs(TF_OpKernelContext *ctx);
extern void TF_OpKernelConstruction_Failure(TF_OpKernelConstruction *ctx, TF_Status *status);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext *ctx, TF_Status *status);
extern void TF_OpKernelConstruction_GetAttrInt64(TF_OpKernelConstruction *ctx, const char *attr_name,
                                                 int64_t *val, TF_Status *status);
extern void TF_OpKernelConstruction_GetAttrFloat(TF_OpKernelConstruction *ctx, const char *attr_name, float *val,
                                                 TF_Status *status);
extern TF_Tensor *TF_AllocateOutput(TF_OpKernelContext *context, int index, TF_DataType dtype, const int64_t *dims,
                                    int num_dims, size_t len, TF_Status *status);

typedef struct {
  int64_t steps;
  float decay, scale, threshold, zscale, half_slope;
} LifAttrs;

static void *lif_create(TF_OpKernelConstruction *ctx) {
  LifAttrs *a = calloc(1, sizeof *a);
  TF_Status *status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt64(ctx, "steps", &a->steps, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "decay", &a->decay, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "scale", &a->scale, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "threshold", &a->threshold, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "zscale", &a->zscale, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "half_slope", &a->half_slope, status);
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return a;
}

static void fail(TF_OpKernelContext *ctx, const char *message) {
  TF_Status *status = TF_NewStatus();
  TF_SetStatus(status, TF_INVALID_ARGUMENT, message);
  TF_OpKernelContext_Failure(ctx, status);
  TF_DeleteStatus(status);
}

/* Output `index` shaped like `like`, with its first dimension divided by `divide`. */
static TF_Tensor *allocate(TF_OpKernelContext *ctx, int index, const TF_Tensor *like, int64_t divide,
                           TF_Status *status) {
  int rank = TF_NumDims(like);
  int64_t dims[8];
  int64_t count = 1;
  for (int d = 0; d < rank && d < 8; d++) {
    dims[d] = TF_Dim(like, d) / (d == 0 ? divide : 1);
    count *= dims[d];
  }
  return TF_AllocateOutput(ctx, index, TF_FLOAT, dims, rank, (size_t)count * sizeof(float), status);
}

/* The per-neuron tensor of a step ([B, ...]) or a scalar standing for all neurons; NULL if neither. */
static const float *per_neuron(const TF_Tensor *t, int64_t neurons, int *broadcast) {
  int64_t count = TF_TensorElementCount(t);
  *broadcast = count == 1 && TF_NumDims(t) == 0;
  return count == neurons || *broadcast ? (const float *)TF_TensorData(t) : NULL;
}

static int check_input(TF_OpKernelContext *ctx, const TF_Tensor *x, int64_t steps) {
  if (TF_TensorType(x) != TF_FLOAT || TF_NumDims(x) < 1 || TF_NumDims(x) > 8 || TF_Dim(x, 0) % steps != 0) {
    fail(ctx, "SpikenasLif: input must be float32 of rank 1..8 with a first dimension divisible by steps");
    return 0;
  }
  return 1;
}

static void lif_compute(void *kernel, TF_OpKernelContext *ctx) {
  const LifAttrs *a = kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *x = NULL, *v0 = NULL, *spikes = NULL, *charged = NULL, *last = NULL;
  TF_GetInput(ctx, 0, &x, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &v0, status);
  if (TF_GetCode(status) != TF_OK || !check_input(ctx, x, a->steps)) goto done;
  int64_t neurons = TF_TensorElementCount(x) / a->steps;
  int broadcast;
  const float *start = per_neuron(v0, neurons, &broadcast);
  if (start == NULL) {
    fail(ctx, "SpikenasLif: v0 must have one value per neuron of a step, or be a scalar");
    goto done;
  }
  spikes = allocate(ctx, 0, x, 1, status);
  if (TF_GetCode(status) == TF_OK) charged = allocate(ctx, 1, x, 1, status);
  if (TF_GetCode(status) == TF_OK) last = allocate(ctx, 2, x, a->steps, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  const float *in = TF_TensorData(x);
  float *s = TF_TensorData(spikes), *h = TF_TensorData(charged), *v = TF_TensorData(last);
  /* Time outermost, so that the loop over neurons vectorises; v_last holds the potential meanwhile. */
  for (int64_t i = 0; i < neurons; i++) v[i] = start[broadcast ? 0 : i];
  for (int64_t t = 0; t < a->steps; t++) {
    const float *xt = in + t * neurons;
    float *st = s + t * neurons, *ht = h + t * neurons;
    for (int64_t i = 0; i < neurons; i++) {
      float leak = v[i] * a->decay;
      float drive = xt[i] * a->scale;
      float potential = leak + drive;
      int fire = potential >= a->threshold;
      ht[i] = potential;
      st[i] = fire ? 1.0f : 0.0f;
      v[i] = fire ? 0.0f : potential;
    }
  }
done:
  TF_DeleteTensor(x);
  TF_DeleteTensor(v0);
  TF_DeleteTensor(spikes);
  TF_DeleteTensor(charged);
  TF_DeleteTensor(last);
  TF_DeleteStatus(status);
}

static void lif_grad_compute(void *kernel, TF_OpKernelContext *ctx) {
  const LifAttrs *a = kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *dy = NULL, *dlast = NULL, *charged = NULL, *spikes = NULL, *dx = NULL, *dv0 = NULL;
  TF_GetInput(ctx, 0, &dy, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &dlast, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 2, &charged, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 3, &spikes, status);
  if (TF_GetCode(status) != TF_OK || !check_input(ctx, dy, a->steps)) goto done;
  int64_t total = TF_TensorElementCount(dy);
  if (TF_TensorElementCount(charged) != total || TF_TensorElementCount(spikes) != total) {
    fail(ctx, "SpikenasLifGrad: dspikes, charged and spikes must have the same size");
    goto done;
  }
  int64_t neurons = total / a->steps;
  int broadcast;
  const float *gl = per_neuron(dlast, neurons, &broadcast);
  if (gl == NULL) {
    fail(ctx, "SpikenasLifGrad: dv_last must have one value per neuron of a step, or be a scalar");
    goto done;
  }
  dx = allocate(ctx, 0, dy, 1, status);
  if (TF_GetCode(status) == TF_OK) dv0 = allocate(ctx, 1, dy, a->steps, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  const float *g_in = TF_TensorData(dy), *h = TF_TensorData(charged), *s = TF_TensorData(spikes);
  float *out = TF_TensorData(dx), *gv = TF_TensorData(dv0);
  /* gv: the gradient at v_t, from the last timestep back; it ends as the gradient at v0. */
  for (int64_t i = 0; i < neurons; i++) gv[i] = gl[broadcast ? 0 : i];
  for (int64_t t = a->steps - 1; t >= 0; t--) {
    int64_t k0 = t * neurons;
    for (int64_t i = 0; i < neurons; i++) {
      int64_t k = k0 + i;
      float z = (h[k] - a->threshold) * a->zscale;
      float denominator = z * z + 1.0f;
      float direct = (g_in[k] * a->half_slope) / denominator;
      float kept = 1.0f - s[k];
      float g = direct + kept * gv[i];
      out[k] = g * a->scale;
      gv[i] = g * a->decay;
    }
  }
done:
  TF_DeleteTensor(dy);
  TF_DeleteTensor(dlast);
  TF_DeleteTensor(charged);
  TF_DeleteTensor(spikes);
  TF_DeleteTensor(dx);
  TF_DeleteTensor(dv0);
  TF_DeleteStatus(status);
}

typedef struct {
  int64_t steps;
  float epsilon, momentum;
} BnAttrs;

static void *bn_create(TF_OpKernelConstruction *ctx) {
  BnAttrs *a = calloc(1, sizeof *a);
  TF_Status *status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt64(ctx, "steps", &a->steps, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "epsilon", &a->epsilon, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "momentum", &a->momentum, status);
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return a;
}

/* Channels (last dimension) and values per channel and timestep of a [T*B, ..., C] input. */
static int bn_sizes(TF_OpKernelContext *ctx, const TF_Tensor *x, int64_t steps, int64_t *channels, int64_t *n) {
  int rank = TF_NumDims(x);
  if (TF_TensorType(x) != TF_FLOAT || rank < 2 || rank > 8 || TF_Dim(x, 0) % steps != 0) {
    fail(ctx, "SpikenasBatchNorm: input must be float32 of rank 2..8 with a first dimension divisible by steps");
    return 0;
  }
  *channels = TF_Dim(x, rank - 1);
  *n = TF_TensorElementCount(x) / steps / *channels;
  return 1;
}

static TF_Tensor *allocate_vector(TF_OpKernelContext *ctx, int index, int64_t size, TF_Status *status) {
  return TF_AllocateOutput(ctx, index, TF_FLOAT, &size, 1, (size_t)size * sizeof(float), status);
}

/*
 * SpikenasBatchNorm(x [T*B, ..., C], gamma, beta, running mean, running variance) -> y, new running mean,
 * new running variance, and per timestep and channel the batch mean and 1/sqrt(var + eps) [T*C] for the
 * gradient. Each timestep is normalised with its own statistics over B and the spatial positions; the
 * running statistics take the T momentum updates in order, PyTorch's (unbiased variance).
 */
static void bn_compute(void *kernel, TF_OpKernelContext *ctx) {
  const BnAttrs *a = kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *in[5] = {NULL, NULL, NULL, NULL, NULL}, *out[5] = {NULL, NULL, NULL, NULL, NULL};
  double *sum = NULL;
  for (int i = 0; i < 5 && TF_GetCode(status) == TF_OK; i++) TF_GetInput(ctx, i, &in[i], status);
  int64_t channels, n;
  if (TF_GetCode(status) != TF_OK || !bn_sizes(ctx, in[0], a->steps, &channels, &n)) goto done;
  for (int i = 1; i < 5; i++) {
    if (TF_TensorElementCount(in[i]) != channels) {
      fail(ctx, "SpikenasBatchNorm: gamma, beta, mean and variance need one value per channel");
      goto done;
    }
  }
  out[0] = allocate(ctx, 0, in[0], 1, status);
  for (int i = 1; i < 3 && TF_GetCode(status) == TF_OK; i++) out[i] = allocate_vector(ctx, i, channels, status);
  for (int i = 3; i < 5 && TF_GetCode(status) == TF_OK; i++) out[i] = allocate_vector(ctx, i, a->steps * channels, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  const float *x = TF_TensorData(in[0]), *gamma = TF_TensorData(in[1]), *beta = TF_TensorData(in[2]);
  float *y = TF_TensorData(out[0]), *rm = TF_TensorData(out[1]), *rv = TF_TensorData(out[2]);
  float *mean = TF_TensorData(out[3]), *invstd = TF_TensorData(out[4]);
  for (int64_t c = 0; c < channels; c++) {
    rm[c] = ((const float *)TF_TensorData(in[3]))[c];
    rv[c] = ((const float *)TF_TensorData(in[4]))[c];
  }
  sum = malloc((size_t)channels * sizeof(double));
  for (int64_t t = 0; t < a->steps; t++) {
    const float *xt = x + t * n * channels;
    float *yt = y + t * n * channels, *mt = mean + t * channels, *st = invstd + t * channels;
    for (int64_t c = 0; c < channels; c++) sum[c] = 0;
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < channels; c++) sum[c] += xt[k * channels + c];
    for (int64_t c = 0; c < channels; c++) mt[c] = (float)(sum[c] / (double)n);
    for (int64_t c = 0; c < channels; c++) sum[c] = 0;
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < channels; c++) {
        double d = (double)xt[k * channels + c] - mt[c];
        sum[c] += d * d;
      }
    for (int64_t c = 0; c < channels; c++) {
      float variance = (float)(sum[c] / (double)n);
      st[c] = (float)(1.0 / sqrt((double)variance + a->epsilon));
      float unbiased = (float)(sum[c] / (double)(n > 1 ? n - 1 : 1));
      rm[c] = (1.0f - a->momentum) * rm[c] + a->momentum * mt[c];
      rv[c] = (1.0f - a->momentum) * rv[c] + a->momentum * unbiased;
    }
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < channels; c++) {
        int64_t i = k * channels + c;
        yt[i] = (xt[i] - mt[c]) * st[c] * gamma[c] + beta[c];
      }
  }
done:
  free(sum);
  for (int i = 0; i < 5; i++) {
    TF_DeleteTensor(in[i]);
    TF_DeleteTensor(out[i]);
  }
  TF_DeleteStatus(status);
}

/*
 * SpikenasBatchNormGrad(dy, x, gamma, mean, invstd) -> dx, dgamma, dbeta: per timestep and channel,
 * with xhat = (x - mean) invstd over its n values, dx = gamma invstd (dy - sum(dy) / n - xhat
 * sum(dy xhat) / n); dgamma and dbeta sum sum(dy xhat) and sum(dy) over the timesteps.
 */
static void bn_grad_compute(void *kernel, TF_OpKernelContext *ctx) {
  const BnAttrs *a = kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *in[5] = {NULL, NULL, NULL, NULL, NULL}, *out[3] = {NULL, NULL, NULL};
  double *sdy = NULL, *sdyx = NULL;
  for (int i = 0; i < 5 && TF_GetCode(status) == TF_OK; i++) TF_GetInput(ctx, i, &in[i], status);
  int64_t channels, n;
  if (TF_GetCode(status) != TF_OK || !bn_sizes(ctx, in[1], a->steps, &channels, &n)) goto done;
  out[0] = allocate(ctx, 0, in[1], 1, status);
  for (int i = 1; i < 3 && TF_GetCode(status) == TF_OK; i++) out[i] = allocate_vector(ctx, i, channels, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  const float *dy = TF_TensorData(in[0]), *x = TF_TensorData(in[1]), *gamma = TF_TensorData(in[2]);
  const float *mean = TF_TensorData(in[3]), *invstd = TF_TensorData(in[4]);
  float *dx = TF_TensorData(out[0]), *dgamma = TF_TensorData(out[1]), *dbeta = TF_TensorData(out[2]);
  sdy = malloc((size_t)channels * sizeof(double));
  sdyx = malloc((size_t)channels * sizeof(double));
  double *tg = calloc((size_t)channels * 2, sizeof(double));
  for (int64_t t = 0; t < a->steps; t++) {
    const float *dyt = dy + t * n * channels, *xt = x + t * n * channels;
    const float *mt = mean + t * channels, *st = invstd + t * channels;
    float *dxt = dx + t * n * channels;
    for (int64_t c = 0; c < channels; c++) sdy[c] = sdyx[c] = 0;
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < channels; c++) {
        int64_t i = k * channels + c;
        sdy[c] += dyt[i];
        sdyx[c] += (double)dyt[i] * ((xt[i] - mt[c]) * st[c]);
      }
    for (int64_t c = 0; c < channels; c++) {
      tg[c] += sdyx[c];
      tg[channels + c] += sdy[c];
    }
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < channels; c++) {
        int64_t i = k * channels + c;
        float xhat = (xt[i] - mt[c]) * st[c];
        dxt[i] = gamma[c] * st[c] * (dyt[i] - (float)(sdy[c] / n) - xhat * (float)(sdyx[c] / n));
      }
  }
  for (int64_t c = 0; c < channels; c++) {
    dgamma[c] = (float)tg[c];
    dbeta[c] = (float)tg[channels + c];
  }
  free(tg);
done:
  free(sdy);
  free(sdyx);
  for (int i = 0; i < 5; i++) TF_DeleteTensor(in[i]);
  for (int i = 0; i < 3; i++) TF_DeleteTensor(out[i]);
  TF_DeleteStatus(status);
}

/*
 * SpikenasSpikeGram(x [B, N] of spikes, 0 or 1) -> [B, B] = x xᵀ: for each pair of samples, how many neurons
 * fire in both, the dot products SAHD's Hamming distances come from. Each row is packed into 64-bit words,
 * and a pair's count is the popcount of their AND: the same integers as a float32 GEMM of 0/1 values
 * (exact while counts stay below 2^24), for about 1/64 of its operations. Any nonzero input counts as a
 * spike.
 */
static void *gram_create(TF_OpKernelConstruction *ctx) {
  (void)ctx;
  return calloc(1, 1);
}

static void gram_compute(void *kernel, TF_OpKernelContext *ctx) {
  (void)kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *x = NULL, *out = NULL;
  uint64_t *bits = NULL;
  TF_GetInput(ctx, 0, &x, status);
  if (TF_GetCode(status) != TF_OK) goto done;
  if (TF_TensorType(x) != TF_FLOAT || TF_NumDims(x) != 2) {
    fail(ctx, "SpikenasSpikeGram: input must be float32 [batch, neurons]");
    goto done;
  }
  int64_t b = TF_Dim(x, 0), n = TF_Dim(x, 1), words = (n + 63) / 64;
  int64_t dims[2] = {b, b};
  out = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 2, (size_t)(b * b) * sizeof(float), status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  bits = calloc((size_t)(b * words > 0 ? b * words : 1), sizeof *bits);
  if (bits == NULL) {
    fail(ctx, "SpikenasSpikeGram: out of memory");
    goto done;
  }
  const float *in = TF_TensorData(x);
  for (int64_t i = 0; i < b; i++)
    for (int64_t k = 0; k < n; k++)
      if (in[i * n + k] != 0.0f) bits[i * words + k / 64] |= (uint64_t)1 << (k % 64);
  float *g = TF_TensorData(out);
  for (int64_t i = 0; i < b; i++) {
    const uint64_t *row = bits + i * words;
    for (int64_t j = 0; j <= i; j++) {
      const uint64_t *other = bits + j * words;
      int64_t count = 0;
      for (int64_t w = 0; w < words; w++) count += __builtin_popcountll(row[w] & other[w]);
      g[i * b + j] = g[j * b + i] = (float)count;
    }
  }
done:
  free(bits);
  TF_DeleteTensor(x);
  TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

/*
 * SpikenasMomentumSgd(variables: N tensors, buffers: N, grads: N, lr: scalar) -> new variables, new buffers:
 * PyTorch's SGD with momentum and weight decay on every trainable variable in one kernel, where the
 * composite update in snn/train.ts takes six per variable. Per element, the same float operations in the
 * same order: g = grad + w decay, b' = b momentum + g, w' = w - b' lr. The learning rate is an input, not
 * an attribute, because a schedule changes it every step and eager TensorFlow caches a kernel per
 * attribute value.
 */
typedef struct {
  int64_t n;
  float momentum, weight_decay;
} SgdAttrs;

static void *sgd_create(TF_OpKernelConstruction *ctx) {
  SgdAttrs *a = calloc(1, sizeof *a);
  TF_Status *status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt64(ctx, "N", &a->n, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "momentum", &a->momentum, status);
  if (TF_GetCode(status) == TF_OK)
    TF_OpKernelConstruction_GetAttrFloat(ctx, "weight_decay", &a->weight_decay, status);
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return a;
}

/* Updates variable `v` of the kernel's N into outputs v and N + v; 0 after reporting a failure. */
static int sgd_variable(TF_OpKernelContext *ctx, const SgdAttrs *a, int64_t v, float rate, TF_Status *status) {
  TF_Tensor *in[3] = {NULL, NULL, NULL}, *out[2] = {NULL, NULL};
  int ok = 1;
  for (int i = 0; i < 3 && TF_GetCode(status) == TF_OK; i++) TF_GetInput(ctx, (int)(i * a->n + v), &in[i], status);
  if (TF_GetCode(status) != TF_OK) goto done;
  int64_t count = TF_TensorElementCount(in[0]);
  if (TF_TensorElementCount(in[1]) != count || TF_TensorElementCount(in[2]) != count ||
      TF_TensorType(in[0]) != TF_FLOAT || TF_TensorType(in[1]) != TF_FLOAT || TF_TensorType(in[2]) != TF_FLOAT) {
    fail(ctx, "SpikenasMomentumSgd: a variable, its buffer and its gradient must be float32 of one size");
    ok = 0;
    goto done;
  }
  out[0] = allocate(ctx, (int)v, in[0], 1, status);
  if (TF_GetCode(status) == TF_OK) out[1] = allocate(ctx, (int)(a->n + v), in[1], 1, status);
  if (TF_GetCode(status) != TF_OK) goto done;
  const float *w = TF_TensorData(in[0]), *b = TF_TensorData(in[1]), *g = TF_TensorData(in[2]);
  float *w_out = TF_TensorData(out[0]), *b_out = TF_TensorData(out[1]);
  for (int64_t k = 0; k < count; k++) {
    float step = g[k] + w[k] * a->weight_decay;
    float buffer = b[k] * a->momentum + step;
    b_out[k] = buffer;
    w_out[k] = w[k] - buffer * rate;
  }
done:
  if (ok && TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    ok = 0;
  }
  for (int i = 0; i < 3; i++) TF_DeleteTensor(in[i]);
  for (int i = 0; i < 2; i++) TF_DeleteTensor(out[i]);
  return ok;
}

static void sgd_compute(void *kernel, TF_OpKernelContext *ctx) {
  const SgdAttrs *a = kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *lr = NULL;
  if (TF_NumInputs(ctx) != 3 * a->n + 1) {
    fail(ctx, "SpikenasMomentumSgd: needs N variables, N buffers, N gradients and the learning rate");
    goto done;
  }
  TF_GetInput(ctx, (int)(3 * a->n), &lr, status);
  if (TF_GetCode(status) != TF_OK || TF_TensorType(lr) != TF_FLOAT || TF_TensorElementCount(lr) != 1) {
    fail(ctx, "SpikenasMomentumSgd: the learning rate must be a float32 scalar");
    goto done;
  }
  const float rate = *(const float *)TF_TensorData(lr);
  for (int64_t v = 0; v < a->n; v++) {
    if (!sgd_variable(ctx, a, v, rate, status)) break;
  }
done:
  TF_DeleteTensor(lr);
  TF_DeleteStatus(status);
}

/* Eager execution never needs the output shapes in advance. */
static void unknown_shapes(TF_ShapeInferenceContext *ctx, TF_Status *status) {
  TF_ShapeInferenceContextSetUnknownShape(ctx, status);
}

static const char *LIF_ATTRS[] = {"steps: int >= 1", "decay: float", "scale: float", "threshold: float",
                                   "zscale: float = 0", "half_slope: float = 0"};
static const char *BN_ATTRS[] = {"steps: int >= 1", "epsilon: float", "momentum: float = 0"};

static int registered = 0;

static void register_op(const char *name, const char **inputs, int n_in, const char **outputs, int n_out,
                        const char **attrs, int n_attrs, void *(*create)(TF_OpKernelConstruction *),
                        void (*compute)(void *, TF_OpKernelContext *), TF_Status *status) {
  TF_OpDefinitionBuilder *b = TF_NewOpDefinitionBuilder(name);
  for (int i = 0; i < n_in; i++) TF_OpDefinitionBuilderAddInput(b, inputs[i]);
  for (int i = 0; i < n_out; i++) TF_OpDefinitionBuilderAddOutput(b, outputs[i]);
  for (int i = 0; i < n_attrs; i++) TF_OpDefinitionBuilderAddAttr(b, attrs[i]);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(b, unknown_shapes);
  TF_RegisterOpDefinition(b, status);
  if (TF_GetCode(status) != TF_OK) return;
  TF_KernelBuilder *k = TF_NewKernelBuilder(name, "CPU", create, compute, free);
  TF_RegisterKernelBuilder(name, k, status);
}

/* Registers the ops once; 0 on success. */
static int register_ops(void) {
  if (registered) return 0;
  TF_Status *status = TF_NewStatus();
  const char *lif_in[] = {"x: float", "v0: float"};
  const char *lif_out[] = {"spikes: float", "charged: float", "v_last: float"};
  const char *lif_grad_in[] = {"dspikes: float", "dv_last: float", "charged: float", "spikes: float"};
  const char *lif_grad_out[] = {"dx: float", "dv0: float"};
  const char *bn_in[] = {"x: float", "gamma: float", "beta: float", "mean: float", "variance: float"};
  const char *bn_out[] = {"y: float", "new_mean: float", "new_variance: float", "batch_mean: float",
                          "batch_invstd: float"};
  const char *bn_grad_in[] = {"dy: float", "x: float", "gamma: float", "batch_mean: float", "batch_invstd: float"};
  const char *bn_grad_out[] = {"dx: float", "dgamma: float", "dbeta: float"};
  register_op("SpikenasLif", lif_in, 2, lif_out, 3, LIF_ATTRS, 6, lif_create, lif_compute, status);
  if (TF_GetCode(status) == TF_OK)
    register_op("SpikenasLifGrad", lif_grad_in, 4, lif_grad_out, 2, LIF_ATTRS, 6, lif_create, lif_grad_compute, status);
  if (TF_GetCode(status) == TF_OK)
    register_op("SpikenasBatchNorm", bn_in, 5, bn_out, 5, BN_ATTRS, 3, bn_create, bn_compute, status);
  if (TF_GetCode(status) == TF_OK)
    register_op("SpikenasBatchNormGrad", bn_grad_in, 5, bn_grad_out, 3, BN_ATTRS, 3, bn_create, bn_grad_compute, status);
  const char *gram_in[] = {"x: float"};
  const char *gram_out[] = {"gram: float"};
  if (TF_GetCode(status) == TF_OK)
    register_op("SpikenasSpikeGram", gram_in, 1, gram_out, 1, NULL, 0, gram_create, gram_compute, status);
  const char *sgd_in[] = {"variables: N * float", "buffers: N * float", "grads: N * float", "lr: float"};
  const char *sgd_out[] = {"new_variables: N * float", "new_buffers: N * float"};
  const char *sgd_attrs[] = {"N: int >= 1", "momentum: float", "weight_decay: float"};
  if (TF_GetCode(status) == TF_OK)
    register_op("SpikenasMomentumSgd", sgd_in, 4, sgd_out, 2, sgd_attrs, 3, sgd_create, sgd_compute, status);
  int ok = TF_GetCode(status) == TF_OK;
  TF_DeleteStatus(status);
  registered = ok;
  return ok ? 0 : 1;
}

/* N-API entry point (no node headers needed: the handles are opaque): loading the module registers the ops. */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  (void)env;
  return register_ops() == 0 ? exports : NULL;
}
