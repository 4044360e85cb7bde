/* sysexits.h codes used by chored and chorectl (see sysexits(3)). */
#ifndef CHORED_SYSEXITS_H
#define CHORED_SYSEXITS_H
#include <sysexits.h>
#endif
