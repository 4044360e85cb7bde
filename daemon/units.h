/* Durations ("90s", "15m", "2h", "3d", "2w", combined as "1h30m") and sizes
 * ("512K", "64M", "1G", "2T", or plain bytes), as config values and CLI arguments. */
#ifndef CHORED_UNITS_H
#define CHORED_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 and seconds, or -1 with "expected a duration such as 90s, 15m, 2h, 3d or 2w". */
int units_parse_duration(const char *text, int64_t *secs, char *err, size_t errlen);
/* Returns 0 and bytes (K = 1024), or -1 with a message. */
int units_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen);
/* Formats seconds back as the shortest exact form ("1h30m", "0s"). */
char *units_format_duration(int64_t secs, char *buf, size_t len);

#endif
