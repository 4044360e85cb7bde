/* The configuration report shared by chorectl check and chored -t. */
#ifndef CHORED_CONFIG_REPORT_H
#define CHORED_CONFIG_REPORT_H

#include <stdbool.h>

struct cfg;
struct cfg_diag;

/* Prints every file read (stdout), then "ok: …" or every error (stderr). cfg may be NULL
 * when loading failed. quiet: print errors only. Returns 0, or EX_CONFIG when there were errors. */
int cfg_report(const struct cfg *cfg, const struct cfg_diag *diag, bool quiet);

#endif
