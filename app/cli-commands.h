/* cli-commands.h: the subcommands of secateur-cli, one file each
 * (app/cli-<name>.c). Each takes argv with argv[0] = the subcommand name
 * and returns the exit status: 0 success, 1 failure, 2 usage error. */
#pragma once

#include "cli-options.h"
#include "sc-evaluate-job.h"
#include "sc-generate.h"
#include "sc-project.h"

typedef struct {
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv);
} ScCliCommand;

/* Subcommands living in their own files register here. */
extern const ScCliCommand sc_cli_extra_commands[];

int sc_cli_score (int argc, char **argv);
int sc_cli_stats (int argc, char **argv);
int sc_cli_select (int argc, char **argv);
int sc_cli_calibrate (int argc, char **argv);
int sc_cli_export (int argc, char **argv);
int sc_cli_evaluate (int argc, char **argv);
int sc_cli_compare (int argc, char **argv);
int sc_cli_demo (int argc, char **argv);
int sc_cli_generate (int argc, char **argv);
/* `info` for a BLOOM model directory (cli-generate.c). */
int sc_cli_bloom_info (const char *dir);

int sc_cli_sparsify (int argc, char **argv);
int sc_cli_perplexity (int argc, char **argv);

/* Helpers shared by the subcommands. */

/* --project DIR (cli-project.c): the project, created for `model_dir` when
 * absent (nullable: then it must exist, and its model folder is used);
 * NULL after saying why on stderr. */
ScProject *sc_cli_open_project (const char *command, const char *dir, const char *model_dir);

/* The first `limit` (<= 0: all) sources and references of `pairs`
 * (ScCorpusPair), as NULL-terminated arrays borrowing their strings;
 * returns how many (cli-evaluate.c). */
int sc_cli_split_pairs (GPtrArray *pairs, int limit, const char ***sources,
                        const char ***references);

/* The model's generation defaults with --beam / --max-len applied when
 * positive (cli-evaluate.c). */
/* Generation options from the model with the command's --beam and
 * --max-len; `hf_defaults`: transformers' default length (20) where the
 * model sets none. */
void sc_cli_generate_options (ScModel *model, int beam, int max_len, gboolean hf_defaults,
                              ScGenerateOptions *gen);
/* Says on stderr which length applies when the model's configuration sets
 * none (Secateur's 200, or transformers' 20 with `hf_defaults`). */
void sc_cli_note_default_length (ScModel *model, gboolean hf_defaults);

/* Kept-expert mask [n_moe * E] for direction src-tgt from an expert index
 * in the paper authors' format (cli-export.c). */
guint8 *sc_cli_keep_from_index (ScModel *model, const char *path, const char *src,
                                const char *tgt, GError **error);
/* The same for several directions in one model: per side the union over
 * them (sc_expert_index_for_pairs). Both warn on stderr, once per file,
 * about keys of the index that were skipped. */
guint8 *sc_cli_keep_from_index_pairs (ScModel *model, const char *path,
                                      const char *const *directions, GError **error);
/* Warns on stderr when `model` is an export made for other directions than
 * src-tgt (cli-export.c). */
void sc_cli_warn_unserved (ScModel *model, const char *src, const char *tgt);

/* Prints what an export did about an earlier run's leftovers, on stderr
 * (an ScDestinationNoteFunc; cli-export.c). */
void sc_cli_export_note (const char *message, gpointer data);

/* --device and --expert-budget-gb (cli-device.c): add them to a command's
 * options, then load the model with them. */
typedef struct {
  char  *device;            /* NULL: $SC_DEVICE, else cpu */
  double expert_budget_gb;  /* 0: no budget */
  double memory_gb;         /* batches must fit this much; 0: the device's memory */
} ScCliDeviceOptions;

void     sc_cli_device_add_options   (GOptionContext *ctx, ScCliDeviceOptions *opts);
void     sc_cli_device_options_clear (ScCliDeviceOptions *opts);
ScModel *sc_cli_load_model           (const char *dir, ScModelLoadFlags flags,
                                      const ScCliDeviceOptions *opts, GError **error);
/* The process's backend for --device (made on first use, kept until exit). */
ScBackend *sc_cli_backend            (const ScCliDeviceOptions *opts, GError **error);
/* Bytes of memory on `device`: RAM for the CPU, the GPU's for cuda[:N]. */
gboolean   sc_cli_device_memory      (const char *device, guint64 *bytes, GError **error);
/* The batch to run: `batch`, or the largest smaller one whose memory plan
 * (sc-memory-plan.h: weights, expert budget, KV cache, activations) fits
 * --memory-gb or the device's memory, saying so on stderr; 0 and an error
 * when not even one sentence fits. */
int        sc_cli_fit_batch          (ScModel *model, const ScCliDeviceOptions *opts, int batch,
                                      int beams, int src_len, int tgt_len, gboolean teacher,
                                      GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ScCliDeviceOptions, sc_cli_device_options_clear)

/* The evaluate job (sc-evaluate-job.h) with the sentences split over MPI
 * ranks (cli-evaluate-ranks.c): every rank must call it, with `opts`
 * naming its sources and references; only rank 0's result holds the
 * translations and scores, the job's numbers. One process: the job itself. */
ScEvaluateJobResult *sc_cli_evaluate_ranks (ScModel *model, const ScEvaluateJobOptions *opts,
                                            GError **error);
