/* Fault rules: which faults a request meets. Owned by faults.c. */
#ifndef KLEASE_TESTS_KSIM_FAULTS_H
#define KLEASE_TESTS_KSIM_FAULTS_H

#include "ksim.h"

typedef struct fault_decision {
    int latency_ms;
    bool fire;
    ksim_fault_kind kind;
    int status;
    int retry_after_s;
} fault_decision;

void ksim__faults_decide(ksim *sim, const char *method, bool is_watch, const char *user,
                         fault_decision *d);
/* Whether a partition fault covers `user`. With mu held. */
bool ksim__identity_partitioned(ksim *sim, const char *user);
void ksim__faults_free(ksim *sim);

#endif
