/* The report of chorectl check and chored -t: files read in order, then ok or every error. */
#include "config.h"
#include "config_report.h"

#include <stdio.h>

#include "sysexits_compat.h"

int cfg_report(const struct cfg *cfg, const struct cfg_diag *diag, bool quiet)
{
	if (!quiet)
		for (size_t i = 0; i < diag->n_files; i++)
			printf("%s\n", diag->files[i]);
	if (diag->n_errors) {
		for (size_t i = 0; i < diag->n_errors; i++)
			fprintf(stderr, "%s\n", diag->errors[i]);
		fprintf(stderr, "%zu error%s: configuration rejected\n", diag->n_errors,
		        diag->n_errors == 1 ? "" : "s");
		return EX_CONFIG;
	}
	if (!quiet && cfg) {
		size_t enabled = 0;
		for (size_t i = 0; i < cfg->n_jobs; i++)
			enabled += cfg->jobs[i].enabled;
		printf("ok: %zu job%s (%zu enabled), %zu notify sink%s, %zu secret%s\n",
		       cfg->n_jobs, cfg->n_jobs == 1 ? "" : "s", enabled, cfg->n_sinks,
		       cfg->n_sinks == 1 ? "" : "s", cfg->n_secrets,
		       cfg->n_secrets == 1 ? "" : "s");
	}
	return 0;
}
