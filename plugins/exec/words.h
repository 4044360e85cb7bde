/* Splitting a command line into words the way sh does for quotes and backslashes, without
 * any expansion (no variables, globs or substitutions). */
#ifndef CHORED_EXEC_WORDS_H
#define CHORED_EXEC_WORDS_H

#include <stddef.h>

/* Splits `text` into a new NULL-terminated array of new strings (free with words_free).
 * Returns NULL with a message in err on an unbalanced quote or a trailing backslash. An
 * empty or blank text gives an empty array. */
char **words_split(const char *text, char *err, size_t errlen);
void words_free(char **words);
size_t words_count(char *const *words);

struct chored_job;
/* Splits the job's option `key` (unset = no words); on error reports it against `key` with
 * chored_job_error and returns NULL. */
char **words_split_opt(struct chored_job *job, const char *key);

#endif
