/* The record of accepted writes. Owned by history.c. */
#ifndef KLEASE_TESTS_KSIM_HISTORY_H
#define KLEASE_TESTS_KSIM_HISTORY_H

#include "ksim.h"

int ksim__history_append(ksim *sim, const ksim_history_entry *e); /* copies; mu held */
void ksim__history_free_all(ksim *sim);
/* JSON lines of entries [from, end), for the control endpoint; takes mu itself. */
char *ksim__history_jsonl(ksim *sim, size_t from);

#endif
