/* cli-extra.c: the table of secateur-cli subcommands kept in their own
 * files. Add one line per subcommand (and its file to app/meson.build). */
#include "cli-commands.h"

#include <stddef.h>

const ScCliCommand sc_cli_extra_commands[] = {
  { "calibrate", "gather expert statistics from sentences", sc_cli_calibrate },
  { "export", "write a pruned checkpoint", sc_cli_export },
  { "score", "score hypotheses against references (chrF++, spBLEU, BLEU)", sc_cli_score },
  { "stats", "merge and show expert statistics", sc_cli_stats },
  { "select", "choose the experts to keep (expert index JSON)", sc_cli_select },
  { "evaluate", "chrF++ and spBLEU of the full and the pruned model", sc_cli_evaluate },
  { "compare", "full and pruned translations side by side", sc_cli_compare },
  { "demo", "calibrate, prune and evaluate a model end to end", sc_cli_demo },
  { "generate", "greedy continuation of prompts (BLOOM)", sc_cli_generate },
  { "sparsify", "prune weights with Wanda, SparseGPT or magnitude", sc_cli_sparsify },
  { "perplexity", "per-language perplexity, and its change after pruning", sc_cli_perplexity },
  { NULL, NULL, NULL }
};
