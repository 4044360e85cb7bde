/* bench_firing's floor: what a timer wake-up, a posix_spawn of chored-run and the wait for
 * its exit cost per cycle on this machine, with nothing else (firing_floor.c). */
#ifndef CHORED_FIRING_FLOOR_H
#define CHORED_FIRING_FLOOR_H

/* Runs `cycles` cycles, one a second; the median CPU per cycle (ms) in *median_ms. 0, or -1
 * when something could not be set up (message on stderr). */
int firing_floor(long cycles, double *median_ms);

#endif
