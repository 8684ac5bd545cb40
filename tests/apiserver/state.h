/* Persistence for restarts (ksim_save_state() is public). Owned by state.c. */
#ifndef KLEASE_TESTS_KSIM_STATE_H
#define KLEASE_TESTS_KSIM_STATE_H

#include "ksim.h"

/* Loads leases and the resourceVersion counter; a missing file is a first
 * run (0). -1 with a message in err otherwise. */
int ksim__state_load(ksim *sim, const char *path, char *err, size_t errlen);

#endif
