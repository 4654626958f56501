/* bench-cuda: the CUDA backend's speed.
 *
 *   bench-cuda [MODEL_DIR]
 *
 * 1. cublasGemmEx throughput (f16 in, f32 accumulate) for the NLLB-200 54B
 *    shapes, as a fraction of the device's peak f16 tensor rate.
 * 2. Encode and greedy-decode tokens/s at batch 1 and 32 on MODEL_DIR
 *    (default: the 1 GB synthetic NLLB-MoE of tests/sc-test-synth-moe.h),
 *    and the decode bound from the bytes of weights read per step and the
 *    device's memory bandwidth.
 * Without a CUDA device it says so and exits 0. */
#include "sc-backend-select.h"
#include "sc-model.h"
#include "sc-view.h"
#include "sc-test-synth-moe.h"

#include <stdio.h>

typedef double (*GemmFunc) (int device, int M, int N, int K, int iters);
typedef double (*PeakFunc) (int device);
typedef guint64 (*UploadedFunc) (ScBackend *be);
static UploadedFunc uploaded;

static double
run_encode_decode (ScModel *model, int B, int len, int steps, double *decode_rate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ScView) view = sc_view_new (model, NULL, &error);
  int V = sc_model_get_config (model)->vocab_size;
  g_autofree int *ids = g_new (int, B *len), *lengths = g_new (int, B), *rows = g_new (int, B);
  guint64 s = 3;
  for (int b = 0; b < B; b++)
    {
      lengths[b] = len;
      rows[b] = b;
      for (int t = 0; t < len; t++)
        ids[b * len + t] = t == len - 1 ? 2 : 4 + (int) (synth_next (&s) % 2000);
    }
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (ScEncoding) enc = sc_view_encode (view, ids, lengths, B, len, &error);
  double enc_rate = (double) B * len / ((g_get_monotonic_time () - t0) / 1e6);
  g_autoptr (ScDecoder) dec = sc_decoder_new (view, enc, B, rows, steps + 1, &error);
  g_autofree float *logits = g_new (float, (gsize) B *V);
  g_autofree int *tok = g_new (int, B);
  for (int b = 0; b < B; b++)
    tok[b] = 2;
  guint64 up0 = uploaded ? uploaded (sc_model_get_backend (model)) : 0;
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < steps; i++)
    {
      sc_decoder_forward (dec, tok, 1, logits, TRUE, &error);
      for (int b = 0; b < B; b++)
        tok[b] = 4 + (int) (synth_next (&s) % 2000);
    }
  *decode_rate = (double) B * steps / ((g_get_monotonic_time () - t0) / 1e6);
  if (uploaded != NULL)
    printf ("batch %d: %.1f MiB of weights uploaded per decoded token\n", B,
            (uploaded (sc_model_get_backend (model)) - up0) / 1048576.0 / (B * steps));
  return enc_rate;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int n = sc_backend_cuda_devices (&error);
  if (n <= 0)
    {
      printf ("bench-cuda: no CUDA device (%s); GPU figures are pending a GPU machine\n",
              n < 0 ? error->message : "the driver reports none");
      return 0;
    }
  ScCudaDeviceNameFunc name_of = sc_backend_cuda_symbol ("sc_cuda_device_name", NULL);
  GemmFunc gemm = sc_backend_cuda_symbol ("sc_cuda_gemm_tflops", NULL);
  PeakFunc peak = sc_backend_cuda_symbol ("sc_cuda_peak_f16_tflops", NULL);
  PeakFunc bandwidth = sc_backend_cuda_symbol ("sc_cuda_peak_bandwidth_gbs", NULL);
  uploaded = sc_backend_cuda_symbol ("sc_cuda_backend_uploaded_bytes", NULL);
  char name[256] = "?";
  if (name_of != NULL)
    name_of (0, name, sizeof name);
  double pk = peak ? peak (0) : -1, bw = bandwidth ? bandwidth (0) : -1;
  printf ("device: %s, peak f16 tensor %.0f TFLOP/s, memory %.0f GB/s\n\n", name, pk, bw);

  /* tokens x out x in: attention projections and FFN/expert layers */
  const int shapes[][3] = { { 4096, 2048, 2048 }, { 4096, 8192, 2048 }, { 4096, 2048, 8192 },
                            { 512, 8192, 2048 },  { 32, 8192, 2048 },   { 1, 8192, 2048 } };
  printf ("| GEMM M x N x K | TFLOP/s | of peak |\n|---|---|---|\n");
  for (guint i = 0; gemm != NULL && i < G_N_ELEMENTS (shapes); i++)
    {
      double t = gemm (0, shapes[i][0], shapes[i][1], shapes[i][2], 50);
      printf ("| %d x %d x %d | %.1f | %.0f%% |\n", shapes[i][0], shapes[i][1], shapes[i][2], t,
              pk > 0 ? 100 * t / pk : 0);
    }

  g_autofree char *tmp = NULL;
  const char *dir = argc > 1 ? argv[1] : NULL;
  if (dir == NULL)
    {
      g_setenv ("SC_SRCDIR", SC_SRCDIR, FALSE);
      tmp = g_dir_make_tmp ("secateur-bench-cuda-XXXXXX", NULL);
      ScSynthMoe p = sc_synth_moe_default ();
      guint64 dense, experts;
      sc_synth_moe_write (&p, tmp, &dense, &experts);
      dir = tmp;
    }
  ScBackend *be = sc_backend_new ("cuda", 0, NULL, &error);
  g_autoptr (ScModel) model = be ? sc_model_load (dir, be, &error) : NULL;
  if (model == NULL)
    {
      fprintf (stderr, "bench-cuda: %s\n", error->message);
      return 1;
    }
  /* Bytes of weights one decoding step reads: the decoder's dense weights
   * (cross-attention keys and values excepted: computed once), the output
   * table and two experts per MoE layer. */
  const ScConfig *c = sc_model_get_config (model);
  guint64 d = c->d_model, wsize = sc_dtype_size (sc_model_get_dtype (model));
  guint64 per_layer = 6 * d * d; /* q, k, v, o, cross q, cross o */
  guint64 ffn = 2 * d * c->decoder_ffn_dim;
  guint64 step_bytes = (c->decoder_layers * per_layer + (guint64) c->vocab_size * d) * wsize;
  for (int i = 0; i < c->decoder_layers; i++)
    step_bytes += (sc_config_is_sparse (c, TRUE, i) ? 2 : 1) * ffn * wsize;
  printf ("\nmodel %s: %.1f MiB of weights read per decoding step; bound at batch 1: %.0f "
          "tokens/s\n\n",
          dir, step_bytes / 1048576.0, bw > 0 ? bw * 1e9 / step_bytes : 0);
  printf ("| batch | encode tokens/s | decode tokens/s |\n|---|---|---|\n");
  const int batches[] = { 1, 32 };
  for (guint i = 0; i < G_N_ELEMENTS (batches); i++)
    {
      double dec_rate;
      double enc_rate = run_encode_decode (model, batches[i], 32, 16, &dec_rate);
      printf ("| %d | %.0f | %.0f |\n", batches[i], enc_rate, dec_rate);
    }
  g_clear_pointer (&model, sc_model_free);
  sc_backend_free (be);
  if (tmp != NULL)
    sc_test_rm_tree (tmp);
  return 0;
}
