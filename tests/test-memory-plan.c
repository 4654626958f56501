/* test-memory-plan: the planner's numbers for the real NLLB-200 MoE 54B
 * configuration (tests/fixtures/nllb-moe-54b-config, no weights), checked
 * against the hand calculation below.
 *
 * d = 2048, V = 256206, ffn = 8192, E = 128, 24 + 24 layers, sparse step 4:
 * MoE layers 3, 7, 11, 15, 19, 23 on each side, 12 in all, 1536 experts.
 *
 *   embedding (tied)      V·d                    = 524,709,888
 *   attention block       4·(d² + d)             =  16,785,408
 *   layer norm            2·d                    =       4,096
 *   FFN or one expert     2·d·ffn + ffn + d      =  33,564,672
 *   router                E·d                    =     262,144
 *   encoder layer w/o FFN attn + 2 LN            =  16,793,600
 *   decoder layer w/o FFN 2 attn + 3 LN          =  33,583,104
 *   encoder  24·16,793,600 + 18·33,564,672 + 6·262,144 + 4,096 = 1,008,787,456
 *   decoder  24·33,583,104 + 18·33,564,672 + 6·262,144 + 4,096 = 1,411,735,552
 *   dense    524,709,888 + 1,008,787,456 + 1,411,735,552        = 2,945,232,896
 *   experts  1536 · 33,564,672                                  = 51,555,336,192
 *   total                                                       = 54,500,569,088
 * (the same as NLLB-FACTS.md §3.1).
 *
 * Bytes: f16 dense 5,890,465,792 (5.49 GiB), one expert 67,129,344, all
 * experts 103,110,672,384 (96.0 GiB); f32 twice that.
 * 80% pruned (36 experts per encoder MoE layer, 12 per decoder one: 288):
 * 288 · 67,129,344 = 19,333,251,072; with the dense part 25,223,716,864
 * (23.5 GiB, as the paper's authors report).
 *
 * KV cache, batch 16, 256 source and 256 target tokens, f32:
 *   self  24 layers · 2 (K, V) · 16·256 rows · 2048 · 4 B = 1,610,612,736
 *   cross 24 layers · 2 (K, V) · 16·256 tokens · 2048 · 4 B = 1,610,612,736
 *   total 3,221,225,472 (3 GiB)
 *
 * Activations (f32), same batch, generating: a row needs 8·d + ffn + 2·E =
 * 24,832 floats; the encoder 16·256 rows + one 256×256 score matrix =
 * 101,777,408 floats = 407,109,632 B (the decoder step needs less:
 * 12,889,312 floats, most of it the 16 × 256,206 logits).
 *
 * Largest batch on a 32 GiB GPU, pruned, 512 MiB reserved: each sentence
 * adds 201,326,592 B of KV cache and 25,427,968 B of activations; the fixed
 * part is 25,223,716,864 + 262,144 + 536,870,912 = 25,760,849,920, so
 * B ≤ (34,359,738,368 − 25,760,849,920) / 226,754,560 = 37.9 → 37.
 * Full model on 80 GiB with a 40 GiB expert cache: fixed 5,890,465,792 +
 * 42,949,672,960 + 262,144 + 536,870,912 = 49,377,271,808, so
 * B ≤ (85,899,345,920 − 49,377,271,808) / 226,754,560 = 161.06 → 161.
 */
#include "sc-memory-plan.h"
#include "sc-test-cli.h"
#include "sc-test-util.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static ScConfig *
load_54b (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-54b-config");
  g_autoptr (GError) error = NULL;
  ScConfig *c = sc_config_load (dir, &error);
  g_assert_no_error (error);
  return c;
}

static void
test_params (void)
{
  g_autoptr (ScConfig) c = load_54b ();
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  ScMemoryPlan p;
  sc_memory_plan_compute (c, &o, &p);

  g_assert_cmpint (p.n_moe_layers, ==, 12);
  g_assert_cmpint (p.n_experts, ==, 1536);
  g_assert_cmpint (p.n_kept, ==, 1536);
  g_assert_cmpuint (p.dense_params, ==, 2945232896ULL);
  g_assert_cmpuint (p.expert_params, ==, 33564672ULL);
  g_assert_cmpuint (p.all_expert_params, ==, 51555336192ULL);
  g_assert_cmpuint (p.dense_params + p.all_expert_params, ==, 54500569088ULL);

  /* f16 */
  g_assert_cmpuint (p.dense_bytes, ==, 5890465792ULL);
  g_assert_cmpuint (p.expert_bytes, ==, 67129344ULL);
  g_assert_cmpuint (p.kept_expert_bytes, ==, 103110672384ULL);
  g_assert_cmpfloat_with_epsilon (p.dense_bytes / GIB, 5.486, 0.001);
  g_assert_cmpfloat_with_epsilon (p.kept_expert_bytes / GIB, 96.03, 0.01);

  /* f32 */
  o.weight_dtype = SC_DTYPE_F32;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpuint (p.dense_bytes, ==, 11780931584ULL);
  g_assert_cmpuint (p.kept_expert_bytes, ==, 206221344768ULL);
}

static void
test_pruned (void)
{
  g_autoptr (ScConfig) c = load_54b ();
  int kept[12];
  for (int m = 0; m < 12; m++)
    kept[m] = m < 6 ? 36 : 12;
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.kept_per_layer = kept;
  ScMemoryPlan p;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpint (p.n_kept, ==, 288);
  g_assert_cmpuint (p.kept_expert_bytes, ==, 19333251072ULL);
  g_assert_cmpuint (p.expert_cache_bytes, ==, 19333251072ULL);
  g_assert_cmpuint (p.dense_bytes + p.kept_expert_bytes, ==, 25223716864ULL);
  g_assert_cmpfloat_with_epsilon ((p.dense_bytes + p.kept_expert_bytes) / GIB, 23.49, 0.01);
}

static void
test_kv_and_activations (void)
{
  g_autoptr (ScConfig) c = load_54b ();
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.batch = 16;
  o.src_len = o.tgt_len = 256;
  ScMemoryPlan p;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpuint (p.kv_cache_bytes, ==, 3221225472ULL);
  g_assert_cmpuint (p.activation_bytes, ==, 407109632ULL);

  /* Beams multiply the decoder rows (self-attention), not the source. */
  o.beams = 4;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpuint (p.kv_cache_bytes, ==, 4ULL * 1610612736ULL + 1610612736ULL);

  /* An expert budget replaces the experts' share; the total adds up. */
  o.beams = 1;
  o.expert_budget = 40ULL << 30;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpuint (p.expert_cache_bytes, ==, 40ULL << 30);
  g_assert_cmpuint (p.total_bytes, ==,
                    5890465792ULL + (40ULL << 30) + 3221225472ULL + 407109632ULL);
}

static void
test_fits_and_max_batch (void)
{
  g_autoptr (ScConfig) c = load_54b ();
  int kept[12];
  for (int m = 0; m < 12; m++)
    kept[m] = m < 6 ? 36 : 12;
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.src_len = o.tgt_len = 256;
  o.reserve = 512ULL << 20;
  o.kept_per_layer = kept;
  g_assert_cmpint (sc_memory_plan_max_batch (c, &o, 32ULL << 30, 4096), ==, 37);
  ScMemoryPlan p;
  o.batch = 37;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_true (sc_memory_plan_fits (&p, 32ULL << 30));
  o.batch = 38;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_false (sc_memory_plan_fits (&p, 32ULL << 30));

  /* The full model's experts alone (96 GiB) exceed an 80 GiB GPU... */
  o.kept_per_layer = NULL;
  g_assert_cmpint (sc_memory_plan_max_batch (c, &o, 80ULL << 30, 4096), ==, 0);
  /* ...but with a 40 GiB expert cache it calibrates in batches of 161. */
  o.expert_budget = 40ULL << 30;
  g_assert_cmpint (sc_memory_plan_max_batch (c, &o, 80ULL << 30, 4096), ==, 161);
  g_assert_cmpint (sc_memory_plan_max_batch (c, &o, 80ULL << 30, 100), ==, 100);
}

/* Batches and lengths up to G_MAXINT: sizes saturate instead of wrapping
 * round to something small that "fits", and the bisection for the largest
 * batch ends (it used to overflow int and loop for ever; the subprocess
 * has a timeout). */
static void
test_huge_sizes_subprocess (void)
{
  g_autoptr (ScConfig) c = load_54b ();
  ScMemoryPlanOptions o;
  sc_memory_plan_options_init (&o);
  o.batch = G_MAXINT;
  o.beams = G_MAXINT;
  o.src_len = o.tgt_len = G_MAXINT;
  ScMemoryPlan p;
  sc_memory_plan_compute (c, &o, &p);
  g_assert_cmpuint (p.kv_cache_bytes, ==, G_MAXUINT64);
  g_assert_cmpuint (p.activation_bytes, ==, G_MAXUINT64);
  g_assert_cmpuint (p.total_bytes, ==, G_MAXUINT64);
  g_assert_false (sc_memory_plan_fits (&p, G_MAXUINT64 - 1));

  /* The 40 GiB expert cache case of fits-and-max-batch, searched up to
   * G_MAXINT: still 161. */
  sc_memory_plan_options_init (&o);
  o.src_len = o.tgt_len = 256;
  o.reserve = 512ULL << 20;
  o.expert_budget = 40ULL << 30;
  g_assert_cmpint (sc_memory_plan_max_batch (c, &o, 80ULL << 30, G_MAXINT), ==, 161);
  /* All the memory there is: a batch far beyond int, capped at G_MAXINT. */
  o.src_len = o.tgt_len = 1;
  o.expert_budget = 1;
  int big = sc_memory_plan_max_batch (c, &o, G_MAXUINT64, G_MAXINT);
  g_assert_cmpint (big, ==, G_MAXINT);
}

static void
test_huge_sizes (void)
{
  g_test_trap_subprocess ("/memory-plan/huge-sizes/subprocess", 20 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* secateur-cli info shows the plan from the config alone. */
static void
test_cli_info (void)
{
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-54b-config");
  Run r = run_cli (NULL, "info", "-m", dir, "--device", "cpu", "--batch", "16", "--len", "256",
                   "--memory-gb", "32", "--experts-per-layer", "36,12", NULL);
  g_assert_cmpint (r.status, ==, 0);
  const char *out = r.out;
  g_assert_nonnull (strstr (out, "54.50 B parameters = 2.95 B dense + 51.56 B in 1536 experts"));
  g_assert_nonnull (strstr (out, "Dense part:       5.49 GiB"));
  g_assert_nonnull (strstr (out, "KV cache:         3.00 GiB (batch 16, 256 + 256 tokens)"));
  g_assert_nonnull (strstr (out, "full model"));
  g_assert_nonnull (strstr (out, "pruned to 288 experts"));
  g_assert_nonnull (strstr (out, "Experts:          18.01 GiB (288 experts of 64.0 MiB)"));
  g_assert_nonnull (strstr (out, "Experts:          96.03 GiB (1536 experts of 64.0 MiB)"));
  /* 32 GiB of RAM: the full model does not fit; pruned, batches up to 40
   * (25,223,979,008 + 40 x 226,754,560 <= 32 GiB < ... + 41 x). */
  g_assert_nonnull (strstr (out, "does NOT fit; largest batch that fits: 0"));
  g_assert_nonnull (strstr (out, "fits; largest batch that fits: 40"));
  g_assert_nonnull (strstr (out, "\nCPU:           OpenBLAS "));
  run_clear (&r);
}

/* info names OpenBLAS's kernels, and on a CPU with AVX2 where OpenBLAS
 * runs older ones (it does not know every CPU) says how to change that. */
static void
test_cli_info_cpu (void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  if (!__builtin_cpu_supports ("avx2") || !__builtin_cpu_supports ("fma"))
    {
      g_test_skip ("the CPU has no AVX2 and FMA");
      return;
    }
  g_autofree char *dir = sc_test_path ("tests/fixtures/nllb-moe-54b-config");
  /* OpenBLAS reads its core type when the CLI loads it */
  g_setenv ("OPENBLAS_CORETYPE", "Prescott", TRUE);
  Run old = run_cli (NULL, "info", "-m", dir, "--memory-gb", "32", NULL);
  g_setenv ("OPENBLAS_CORETYPE", "Haswell", TRUE);
  Run avx2 = run_cli (NULL, "info", "-m", dir, "--memory-gb", "32", NULL);
  g_unsetenv ("OPENBLAS_CORETYPE");
  g_assert_cmpint (old.status, ==, 0);
  g_assert_cmpint (avx2.status, ==, 0);
  g_assert_nonnull (strstr (old.out, "CPU:           OpenBLAS Prescott kernels"));
  g_assert_nonnull (strstr (old.out, "OpenBLAS did not recognise it: OPENBLAS_CORETYPE="));
  g_assert_nonnull (strstr (avx2.out, "CPU:           OpenBLAS Haswell kernels"));
  g_assert_null (strstr (avx2.out, "OPENBLAS_CORETYPE"));
  run_clear (&old);
  run_clear (&avx2);
#else
  g_test_skip ("not an x86-64 build");
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memory-plan/params", test_params);
  g_test_add_func ("/memory-plan/pruned", test_pruned);
  g_test_add_func ("/memory-plan/kv-and-activations", test_kv_and_activations);
  g_test_add_func ("/memory-plan/fits-and-max-batch", test_fits_and_max_batch);
  g_test_add_func ("/memory-plan/cli-info", test_cli_info);
  g_test_add_func ("/memory-plan/cli-info-cpu", test_cli_info_cpu);
  g_test_add_func ("/memory-plan/huge-sizes", test_huge_sizes);
  g_test_add_func ("/memory-plan/huge-sizes/subprocess", test_huge_sizes_subprocess);
  return g_test_run ();
}
