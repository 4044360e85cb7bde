/* chored SDK version and plugin ABI version. */
#ifndef CHORED_VERSION_H
#define CHORED_VERSION_H

/* The plugin ABI: a plugin built for major M runs on a host with major M and minor >= its minor. */
#define CHORED_ABI_MAJOR 1
#define CHORED_ABI_MINOR 0

/* The version of the libchored the process runs with, e.g. "0.1.12". */
const char *chored_version(void);

#endif
